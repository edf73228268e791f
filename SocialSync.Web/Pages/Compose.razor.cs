using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Components;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.Web.Components;
using SocialSync.Web.Services;

namespace SocialSync.Web.Pages;

/// <summary>
/// The composer: a new post (at a time, in the queue or next in it) or an edit of one, checked by the server as it
/// is typed (CreatePost with validate_only) and previewed per platform.
/// </summary>
public partial class Compose
{
    private enum When
    {
        At,
        Queue,
        Next,
    }

    [SupplyParameterFromQuery(Name = "at")]
    public string? At { get; set; }

    /// <summary>The post being edited (route /posts/{id}/edit); null when composing a new one.</summary>
    [Parameter]
    public string? PostId { get; set; }

    private List<Channel>? _channels;
    private string _channelId = "";
    private string _text = "";
    // WhatsApp only: the post's own recipients as typed (empty: the channel's).
    private string _recipients = "";
    // The post as read before the edit, and its time as shown: an edit sends only what differs from them.
    private ScheduledPost? _editing;
    private DateTime _editingLocal;
    // Why the post cannot be edited (its status, or it is not found): the page shows it instead of the form.
    private string? _refusal;
    private List<MediaDraft> _media = [];
    private WhatsAppTemplate? _whatsAppTemplate;
    private When _when = When.At;
    private DateTime _at;
    // The rule the recurrence picker made (null: the post does not repeat).
    private string? _rule;
    // The server's checks of the post as it stands (field → problem); null before the first edit.
    private Dictionary<string, string>? _checks;
    private ScheduledPost? _preview;
    private CancellationTokenSource? _checking;
    private bool _saving;
    private string? _error;
    // One request id per composed post, so a repeated click or a retried call makes one post (AIP-155).
    private readonly string _requestId = Guid.NewGuid().ToString();

    private Channel? SelectedChannel => _channels?.FirstOrDefault(c => c.Id == _channelId);

    protected override async Task OnInitializedAsync()
    {
        var now = Zone.Now;
        _at = now.Date.AddHours(now.Hour + 1);
        if (DateTime.TryParse(At, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at))
        {
            _at = at;
        }
        _channels = [.. (await Channels.ListChannelsAsync(new ListChannelsRequest())).Channels];
        _channelId = _channels.FirstOrDefault()?.Id ?? "";
        if (PostId is not null)
        {
            await LoadEditedAsync(PostId);
        }
    }

    /// <summary>Fills the composer with the post to edit, or says why it cannot be edited.</summary>
    private async Task LoadEditedAsync(string id)
    {
        try
        {
            var post = await Posts.GetPostAsync(new GetPostRequest { Id = id });
            _refusal = PostEditing.WhyNotEditable(post.Status);
            _editing = post;
            _channelId = post.ChannelId;
            _text = post.Content?.Text ?? "";
            _media = [.. (post.Content?.Media ?? []).Select(m => new MediaDraft { Type = m.Type, Url = m.Url })];
            _whatsAppTemplate = post.Content?.WhatsappTemplate;
            _at = _editingLocal = Zone.ToLocal(post.PublishAt);
            _rule = post.Rrule.Length > 0 ? post.Rrule : null;
            _recipients = string.Join(", ", post.Recipients);
        }
        catch (RpcException e)
        {
            _refusal = e.StatusCode == StatusCode.NotFound ? "This post does not exist, or it is not in one of your workspaces." : e.Status.Detail;
        }
    }

    private string[] Recipients() => SelectedChannel?.Platform == Platform.Whatsapp
        ? _recipients.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        : [];

    private string? Check(string field) => _checks?.GetValueOrDefault(field);

    /// <summary>Problems not shown beside a media row.</summary>
    private IEnumerable<(string Field, string Description)> OtherChecks() =>
        (_checks ?? []).Where(c => !c.Key.StartsWith("content.media[", StringComparison.Ordinal)).Select(c => (c.Key, c.Value));

    private Content BuildContent()
    {
        var content = new Content
        {
            Text = _text,
            Media = { _media.Select(m => new Media { Type = m.Type, Url = m.Url.Trim() }) },
        };
        if (_whatsAppTemplate is not null && SelectedChannel?.Platform == Platform.Whatsapp)
        {
            content.WhatsappTemplate = _whatsAppTemplate;
        }
        return content;
    }

    private CreatePostRequest BuildCreate(bool draft) => new()
    {
        ChannelId = _channelId,
        Content = BuildContent(),
        // A queue post's time is its slot's; the check only needs one ahead.
        PublishAt = _when == When.At ? Zone.ToTimestamp(_at) : Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        TimeZone = Zone.Zone.Id,
        Rrule = _when == When.At ? _rule ?? "" : "",
        Draft = draft,
        RequestId = _requestId,
        Recipients = { Recipients() },
    };

    /// <summary>
    /// Asks the server to check the post as it stands (CreatePost with validate_only: every check, nothing written),
    /// a moment after the last keystroke; a newer edit cancels the check of an older one.
    /// </summary>
    private async Task ContentChangedAsync()
    {
        _checking?.Cancel();
        var checking = _checking = new CancellationTokenSource();
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), checking.Token);
            var request = BuildCreate(draft: false);
            request.ValidateOnly = true;
            request.RequestId = "";
            try
            {
                _preview = await Posts.CreatePostAsync(request, cancellationToken: checking.Token);
                _checks = [];
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && e.GetRpcStatus()?.GetDetail<BadRequest>() is { } bad)
            {
                _preview = null;
                _checks = bad.FieldViolations.GroupBy(v => v.Field).ToDictionary(g => g.Key, g => string.Join("; ", g.Select(v => v.Description)));
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                _preview = null;
                _checks = new() { [""] = e.Status.Detail };
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            // A newer edit is being checked.
        }
    }

    private Task TimeChangedAsync() => ContentChangedAsync();

    private async Task ChannelChangedAsync(ChangeEventArgs e)
    {
        _channelId = (string?)e.Value ?? "";
        await ContentChangedAsync();
    }

    private Task WhenChangedAsync(When when)
    {
        _when = when;
        return TimeChangedAsync();
    }

    /// <summary>A template rendered for the channel's platform: its text and media fill the post.</summary>
    private Task TemplateUsedAsync(Content content)
    {
        _error = null;
        _text = content.Text;
        _media = [.. content.Media.Select(m => new MediaDraft { Type = m.Type, Url = m.Url })];
        _whatsAppTemplate = content.WhatsappTemplate;
        return ContentChangedAsync();
    }

    private Task ScheduleAsync() => SaveAsync(draft: false);

    private Task SaveDraftAsync() => SaveAsync(draft: true);

    private async Task SaveAsync(bool draft)
    {
        // FluentButton submits its form twice on Enter (fluentui-blazor #1050): the second submit finds the first running.
        if (_saving)
        {
            return;
        }
        _saving = true;
        _error = null;
        try
        {
            if (_editing is not null)
            {
                await UpdateAsync(_editing);
            }
            else if (_when == When.At)
            {
                await Posts.CreatePostAsync(BuildCreate(draft));
            }
            else
            {
                await Queue.AddToQueueAsync(new AddToQueueRequest
                {
                    ChannelId = _channelId,
                    Content = BuildContent(),
                    RequestId = _requestId,
                    Draft = draft,
                    PublishNext = _when == When.Next,
                });
            }
            Navigation.NavigateTo(_editing is null ? "calendar" : $"posts/{_editing.Id}");
        }
        catch (RpcException e)
        {
            _error = ErrorText(e);
        }
        finally
        {
            _saving = false;
        }
    }

    /// <summary>Sends what the user changed (nothing when nothing did), with the etag of the version they edited.</summary>
    private async Task UpdateAsync(ScheduledPost original)
    {
        var edited = new PostEditValues(BuildContent(), _at, Zone.ToTimestamp(_at), Zone.Zone.Id, _rule ?? "", Recipients());
        if (PostUpdate.Between(original, _editingLocal, edited) is { } update)
        {
            await Posts.UpdatePostAsync(update);
        }
    }

    /// <summary>The status's words, with each field the server named.</summary>
    private static string ErrorText(RpcException e) =>
        e.GetRpcStatus()?.GetDetail<BadRequest>() is { FieldViolations.Count: > 0 } bad
            ? string.Join("; ", bad.FieldViolations.Select(v => $"{v.Field} {v.Description}"))
            : e.Status.Detail;

    public void Dispose() => _checking?.Cancel();
}
