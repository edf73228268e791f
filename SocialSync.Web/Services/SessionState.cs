using System.Net;
using System.Net.Http.Json;

namespace SocialSync.Web.Services;

/// <summary>Who is signed in at the gateway (its <c>/bff/user</c>), read once per page load.</summary>
public sealed class SessionState(HttpClient http)
{
    private Task<SignedInUser?>? _user;

    public Task<SignedInUser?> UserAsync() => _user ??= LoadAsync();

    private async Task<SignedInUser?> LoadAsync()
    {
        using var response = await http.GetAsync("bff/user");
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<SignedInUser>() : null;
    }

    public sealed record SignedInUser(string Id, string? Email, string? Name, string LogoutUrl);
}
