using SocialSync.Identity.Cli;
using SocialSync.Identity.Extensions;

if (await IdentityTokenCommand.TryRunAsync(args))
{
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddIdentityProvider();

var app = builder.Build();
await app.PrepareDatabaseAsync();
app.MapIdentityEndpoints();
app.Run();
