using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Platforms.Meta;

/// <summary>
/// Thin client for Meta's Graph API (WhatsApp Cloud API and Instagram Graph API share it). It never retries: a
/// POST that may have gone out is reported as ambiguous, so the caller reconciles instead of resending blindly.
/// </summary>
public sealed partial class GraphApiClient(HttpClient http, IOptions<MetaOptions> options, TimeProvider time, ILogger<GraphApiClient> log)
{
    public const string HttpClientName = "graph-api";
    private readonly MetaOptions _options = options.Value;

    public Task<JsonElement> PostAsync(string path, object body, string accessToken, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Versioned(path), path, JsonContent.Create(body), accessToken, cancellationToken);

    public Task<JsonElement> GetAsync(string pathAndQuery, string accessToken, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, Versioned(pathAndQuery), pathAndQuery, null, accessToken, cancellationToken);

    /// <summary>A read from another Graph host, unversioned (Instagram's token refresh lives on graph.instagram.com).</summary>
    public Task<JsonElement> GetAsync(Uri host, string pathAndQuery, string accessToken, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, new Uri(host, "/" + pathAndQuery.TrimStart('/')), pathAndQuery, null, accessToken, cancellationToken);

    private Uri Versioned(string path) => new(_options.GraphApiBaseUrl, $"/{_options.ApiVersion}/{path.TrimStart('/')}");

    private async Task<JsonElement> SendAsync(HttpMethod method, Uri address, string path, HttpContent? content, string accessToken,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, address)
        {
            Content = content,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, timeout.Token);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
        {
            throw new GraphApiException(ErrorClass.Transient, $"Could not reach the Graph API: {ex.HttpRequestError}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (method == HttpMethod.Get)
            {
                throw new GraphApiException(ErrorClass.Transient, "The Graph API did not answer a read.");
            }
            LogAmbiguous(path, ex.GetType().Name);
            throw new AmbiguousRequestException("The request was sent but no answer came back; it may have been applied.", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                try
                {
                    return JsonDocument.Parse(body).RootElement.Clone();
                }
                catch (JsonException) when (method != HttpMethod.Get)
                {
                    throw new AmbiguousRequestException("The Graph API answered success with a body that is not JSON.", new JsonException());
                }
            }
            throw ToException(response, body);
        }
    }

    private GraphApiException ToException(HttpResponseMessage response, string body)
    {
        var error = GraphApiError.TryParse(body);
        if (error is null)
        {
            // Not Meta's envelope (a proxy's 502 page, an empty body): the status decides.
            var errorClass = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests
                ? ((int)response.StatusCode >= 500 ? ErrorClass.Transient : ErrorClass.RateLimited)
                : ErrorClass.Permanent;
            return new GraphApiException(errorClass, $"The Graph API answered HTTP {(int)response.StatusCode} without an error body.",
                retryAt: errorClass == ErrorClass.RateLimited ? RetryAt(response, 0) : null);
        }
        var classified = ErrorClassifier.Classify(error.Code, error.Subcode, error.IsTransient);
        if (!ErrorClassifier.IsKnown(error.Code, error.Subcode))
        {
            LogUnknownCode(error.Code, error.Subcode ?? 0);
        }
        return new GraphApiException(classified, error.Describe(), error.Code, error.Subcode,
            classified == ErrorClass.RateLimited ? RetryAt(response, error.Code) : null);
    }

    /// <summary>When a throttled call may be tried again: Retry-After, else Meta's estimated_time_to_regain_access.</summary>
    private DateTimeOffset RetryAt(HttpResponseMessage response, int code)
    {
        var now = time.GetUtcNow();
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta)
            {
                return now + delta;
            }
            if (retryAfter.Date is { } date)
            {
                return date;
            }
        }
        if (response.Headers.TryGetValues("X-Business-Use-Case-Usage", out var usage))
        {
            var minutes = EstimatedMinutesToRegainAccess(usage.FirstOrDefault());
            if (minutes > 0)
            {
                return now + TimeSpan.FromMinutes(minutes);
            }
        }
        return now + (code == 131056 ? TimeSpan.FromSeconds(6) : _options.DefaultRateLimitDelay);
    }

    internal static double EstimatedMinutesToRegainAccess(string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return 0;
        }
        try
        {
            using var doc = JsonDocument.Parse(header);
            double max = 0;
            foreach (var business in doc.RootElement.EnumerateObject())
            {
                foreach (var entry in business.Value.EnumerateArray())
                {
                    if (entry.TryGetProperty("estimated_time_to_regain_access", out var value)
                        && double.TryParse(value.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes))
                    {
                        max = Math.Max(max, minutes);
                    }
                }
            }
            return max;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return 0;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "A Graph API POST to {Path} ended without an answer ({Failure}); its outcome is unknown")]
    private partial void LogAmbiguous(string path, string failure);

    [LoggerMessage(2, LogLevel.Warning, "Unknown Graph API error code {Code}/{Subcode}: treated as permanent")]
    private partial void LogUnknownCode(int code, int subcode);
}
