using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.WhatsApp;
using SocialSync.PublisherService.Webhooks;

namespace SocialSync.PublisherService.Tests;

/// <summary>The pure parts of Meta's webhooks in: the signature check, the status reader, the callback reference.</summary>
public sealed class WebhookParsingTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("an app secret for these tests only");

    private static string Sign(byte[] secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    [Fact]
    public void A_signature_is_valid_only_for_the_exact_body_and_the_app_secret()
    {
        var body = Encoding.UTF8.GetBytes("""{"object":"whatsapp_business_account","entry":[]}""");
        var signature = Sign(Secret, body);

        Assert.True(MetaSignature.IsValid(signature, body, Secret));
        Assert.True(MetaSignature.IsValid(signature.ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal), body, Secret));
        Assert.False(MetaSignature.IsValid(signature, [.. body, (byte)' '], Secret));
        Assert.False(MetaSignature.IsValid(Sign(Encoding.UTF8.GetBytes("another secret"), body), body, Secret));
        Assert.False(MetaSignature.IsValid(null, body, Secret));
        Assert.False(MetaSignature.IsValid(signature[7..], body, Secret));
        Assert.False(MetaSignature.IsValid(signature[..^2], body, Secret));
        Assert.False(MetaSignature.IsValid("sha256=" + new string('z', 64), body, Secret));
        Assert.False(MetaSignature.IsValid(signature, body, []));
    }

    [Fact]
    public void The_reader_takes_our_statuses_with_post_attempt_and_error_and_ignores_the_rest()
    {
        var postId = Guid.NewGuid().ToString();
        var ours = WhatsAppCallback.Format(postId, 3, "+16505551234#0");
        using var json = JsonDocument.Parse($$$"""
            {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
              "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
              "statuses":[
                {"id":"wamid.A","status":"failed","timestamp":"1708603746","recipient_id":"16505551234","biz_opaque_callback_data":"{{{ours}}}",
                 "errors":[{"code":131047,"title":"Re-engagement message"}]},
                {"id":"wamid.B","status":"read","timestamp":"1708603746","recipient_id":"16505551234"},
                {"id":"wamid.C","status":"read","timestamp":"1708603746","recipient_id":"16505551234","biz_opaque_callback_data":"someone else's"},
                {"id":"wamid.D","status":"deleted","timestamp":"1708603746","recipient_id":"16505551234","biz_opaque_callback_data":"{{{ours}}}"}]}},
              {"field":"messages","value":{"messages":[{"from":"16505551234","text":{"body":"hi"}}]}}]}]}
            """);

        var (statuses, ignored) = StatusWebhookReader.Read(json.RootElement);

        var status = Assert.Single(statuses);
        Assert.Equal((postId, 3, ours, "wamid.A", "16505551234"), (status.PostId, status.Attempt, status.CallbackRef, status.Wamid, status.RecipientId));
        Assert.Equal((DeliveryState.Failed, 131047, "Re-engagement message"), (status.State, status.ErrorCode, status.ErrorTitle));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1708603746), status.StatusTime.ToDateTimeOffset());
        Assert.Equal(3, ignored);
    }

    [Theory]
    [InlineData("socialsync:not-a-guid:1:+1#0")]
    [InlineData("socialsync:3f2504e0-4f89-11d3-9a0c-0305e82c3301:0:+1#0")]
    [InlineData("socialsync:3f2504e0-4f89-11d3-9a0c-0305e82c3301:-1:+1#0")]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301:1:+1#0")]
    [InlineData("socialsync:3f2504e0-4f89-11d3-9a0c-0305e82c3301:1")]
    public void A_callback_reference_SocialSync_did_not_write_names_no_post(string callback)
    {
        Assert.False(WhatsAppCallback.TryParse(callback, out _, out _));
    }
}
