using System.Net;

namespace SocialSync.Identity.Tests;

public sealed class AccountTests(IdentityFixture fixture) : IClassFixture<IdentityFixture>
{
    private static Dictionary<string, string> Credentials(string email, string password) => new() { ["email"] = email, ["password"] = password };

    [Fact]
    public async Task A_new_account_signs_in_with_its_password_and_not_with_another()
    {
        var (first, email) = await fixture.SignedUpAsync();
        first.Dispose();

        using var browser = fixture.Browser();
        var wrong = await browser.SubmitAsync(await browser.GetAsync("/account/signin"), Credentials(email, "not the password at all"));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        Assert.Equal("Wrong email or password.", wrong.Error);

        var right = await browser.SubmitAsync(await browser.GetAsync("/account/signin"), Credentials(email, IdentityFixture.Password));
        Assert.Equal(HttpStatusCode.OK, right.Status);
        Assert.Contains($"Signed in as {email}", right.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signing_up_twice_with_one_email_or_with_a_short_password_is_refused()
    {
        var (first, email) = await fixture.SignedUpAsync();
        first.Dispose();

        using var browser = fixture.Browser();
        var again = await browser.SubmitAsync(await browser.GetAsync("/account/signup"), Credentials(email, IdentityFixture.Password));
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        var shortPassword = await browser.SubmitAsync(await browser.GetAsync("/account/signup"), Credentials(IdentityFixture.NewEmail(), "short"));
        Assert.Equal(HttpStatusCode.BadRequest, shortPassword.Status);
        Assert.Contains("at least 10 characters", shortPassword.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repeated_wrong_passwords_lock_the_account_and_then_the_right_password_is_refused_too()
    {
        var (first, email) = await fixture.SignedUpAsync();
        first.Dispose();

        using var browser = fixture.Browser();
        for (var i = 0; i < IdentityFixture.MaxFailedSignIns - 1; i++)
        {
            var wrong = await browser.SubmitAsync(await browser.GetAsync("/account/signin"), Credentials(email, $"wrong password {i}"));
            Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        }
        var last = await browser.SubmitAsync(await browser.GetAsync("/account/signin"), Credentials(email, "wrong password, last"));
        Assert.Equal(HttpStatusCode.Locked, last.Status);

        var right = await browser.SubmitAsync(await browser.GetAsync("/account/signin"), Credentials(email, IdentityFixture.Password));
        Assert.Equal(HttpStatusCode.Locked, right.Status);
        Assert.Contains("locked", right.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_form_posted_without_its_antiforgery_token_is_refused()
    {
        using var http = new HttpClient { BaseAddress = fixture.Issuer };
        using var response = await http.PostAsync("/account/signup", new FormUrlEncodedContent(Credentials(IdentityFixture.NewEmail(), IdentityFixture.Password)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Sign_out_ends_the_session()
    {
        var (browser, _) = await fixture.SignedUpAsync();
        using (browser)
        {
            var signedOut = await browser.SubmitAsync(await browser.GetAsync("/account/signout"), new Dictionary<string, string>());
            Assert.Equal(HttpStatusCode.OK, signedOut.Status);
            Assert.Contains("Sign in", signedOut.Html, StringComparison.Ordinal);

            var scripts = await browser.GetAsync("/account/script-clients");
            Assert.StartsWith("/account/signin", scripts.Address.AbsolutePath, StringComparison.Ordinal);
        }
    }
}
