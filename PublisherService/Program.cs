using SocialSync.PublisherService.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapApplicationEndpoints();
app.Run();
