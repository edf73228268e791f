using SocialSync.PostsService.Extensions;

var builder = WebApplication.CreateBuilder(args);
if (DevelopmentTokenCommand.TryRun(args, builder.Configuration))
{
    return;
}

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
await app.MigrateDatabaseAsync();
app.MapApplicationEndpoints();
app.Run();
