using System.Globalization;
using System.Text.Json.Nodes;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>Instagram Graph API: containers, publishing, publishing limit, media reads and DMs.</summary>
public static class InstagramApi
{
    public const int MaxCaptionLength = 2200;
    public const int MaxHashtags = 30;
    public const int MaxMentions = 20;
    public const int MaxDmTextLength = 1000;
    public static readonly TimeSpan DmWindow = TimeSpan.FromHours(24);
    public static readonly TimeSpan HumanAgentWindow = TimeSpan.FromDays(7);

    /// <summary>Subcodes that <c>emu_error</c> URL hints reject synchronously at container creation.</summary>
    private static readonly Dictionary<int, int> SyncUrlErrors = new()
    {
        [2207004] = 36000,
        [2207005] = 36001,
        [2207009] = 36003,
        [2207052] = 9004,
    };

    public static GraphResponse CreateMedia(EmulatorState state, GraphRequest request, string account, DateTimeOffset now)
    {
        var settings = state.Account(account);
        var isCarouselItem = request.Bool("is_carousel_item");
        var imageUrl = request.Str("image_url");
        var videoUrl = request.Str("video_url");
        var caption = request.Str("caption");
        var mediaType = request.Str("media_type")?.ToUpperInvariant();
        mediaType ??= (isCarouselItem, imageUrl, videoUrl) switch
        {
            (true, null, not null) => "VIDEO",
            (_, not null, _) => "IMAGE",
            (false, null, not null) => "VIDEO",
            _ => "IMAGE",
        };

        if (mediaType == "VIDEO" && !isCarouselItem)
        {
            return Fail(ErrorCatalog.Create(100, 2207023, Product.Instagram,
                "The media type VIDEO is no longer supported for feed publishing. Use media_type=REELS."));
        }

        if (isCarouselItem && mediaType is not ("IMAGE" or "VIDEO"))
        {
            return Fail(ErrorCatalog.Create(100, 2207023, Product.Instagram,
                $"The media type {mediaType} is not supported for carousel items."));
        }

        var children = new List<Container>();
        switch (mediaType)
        {
            case "IMAGE":
                if (string.IsNullOrEmpty(imageUrl))
                {
                    return Fail(ErrorCatalog.InvalidParameter("The parameter image_url is required.", Product.Instagram));
                }

                break;
            case "VIDEO":
            case "REELS":
                if (string.IsNullOrEmpty(videoUrl))
                {
                    return Fail(ErrorCatalog.InvalidParameter("The parameter video_url is required.", Product.Instagram));
                }

                break;
            case "STORIES":
                if (string.IsNullOrEmpty(imageUrl) && string.IsNullOrEmpty(videoUrl))
                {
                    return Fail(ErrorCatalog.InvalidParameter("The parameter image_url or video_url is required.", Product.Instagram));
                }

                break;
            case "CAROUSEL":
                var ids = ChildIds(request.Params["children"]);
                if (ids.Count is < 2 or > 10)
                {
                    return Fail(ErrorCatalog.Create(100, 2207028, Product.Instagram,
                        $"(#100) The carousel must have between 2 and 10 children; got {ids.Count}."));
                }

                foreach (var id in ids)
                {
                    if (!state.Containers.TryGetValue(id, out var child) || child.Account != account)
                    {
                        return Fail(ErrorCatalog.ObjectNotFound(id, Product.Instagram));
                    }

                    if (!child.IsCarouselItem)
                    {
                        return Fail(ErrorCatalog.Create(100, 2207028, Product.Instagram,
                            $"(#100) Container {id} was not created with is_carousel_item=true."));
                    }

                    children.Add(child);
                }

                break;
            default:
                return Fail(ErrorCatalog.Create(100, 2207023, Product.Instagram,
                    $"(#100) Param media_type must be one of {{CAROUSEL, IMAGE, REELS, STORIES, VIDEO}} - got \"{mediaType}\"."));
        }

        if (caption is not null && !isCarouselItem && CaptionError(caption) is { } captionError)
        {
            return Fail(ErrorCatalog.Create(36004, 2207010, Product.Instagram, captionError));
        }

        var hint = UrlHint.ErrorCode(videoUrl) ?? UrlHint.ErrorCode(imageUrl);
        if (hint is { } hinted && SyncUrlErrors.TryGetValue(hinted, out var syncCode))
        {
            return Fail(ErrorCatalog.Create(syncCode, hinted, Product.Instagram));
        }

        var isVideo = mediaType is "VIDEO" or "REELS" || (mediaType == "STORIES" && string.IsNullOrEmpty(imageUrl));
        var delayMs = mediaType == "CAROUSEL"
            ? 0
            : isVideo
                ? settings.ProcessingDelayMs ?? state.Options.VideoProcessingDelayMs
                : settings.ImageProcessingDelayMs ?? state.Options.ImageProcessingDelayMs;
        var container = new Container
        {
            Id = state.NextContainerId(),
            Account = account,
            MediaType = mediaType,
            IsCarouselItem = isCarouselItem,
            IsVideo = isVideo,
            Caption = isCarouselItem ? null : caption,
            ImageUrl = imageUrl,
            VideoUrl = videoUrl,
            Children = children,
            CreatedAt = now,
            ReadyAt = delayMs < 0 ? null : now.AddMilliseconds(delayMs),
            ErrorSubcode = hint is { } async && !SyncUrlErrors.ContainsKey(async) ? async : settings.ContainerErrorSubcode,
        };
        state.Containers[container.Id] = container;

        var result = new JsonObject { ["id"] = container.Id };
        if (string.Equals(request.Str("upload_type"), "resumable", StringComparison.OrdinalIgnoreCase))
        {
            result["uri"] = $"https://rupload.facebook.com/ig-api-upload/{request.Version ?? "v23.0"}/{container.Id}";
        }

        return GraphResponse.Ok(result);
    }

    public static GraphResponse Publish(EmulatorState state, GraphRequest request, string account, DateTimeOffset now, long requestSeq)
    {
        var creationId = request.Str("creation_id");
        if (string.IsNullOrEmpty(creationId))
        {
            return Fail(ErrorCatalog.InvalidParameter("The parameter creation_id is required.", Product.Instagram));
        }

        if (!state.Containers.TryGetValue(creationId, out var container) || container.Account != account)
        {
            return Fail(ErrorCatalog.ObjectNotFound(creationId, Product.Instagram));
        }

        var settings = state.Account(account);
        lock (container.Sync)
        {
            if (container.PublishedMediaId is { } publishedId)
            {
                if (settings.RepublishReturnsSameId)
                {
                    return GraphResponse.Ok(new JsonObject { ["id"] = publishedId });
                }

                var spec = settings.RepublishError;
                return Fail(ErrorCatalog.Create(spec?.Code ?? 100, spec?.Subcode, Product.Instagram,
                    spec?.Message ?? "(#100) The media has already been published.", spec?.Status));
            }

            if (container.IsCarouselItem)
            {
                return Fail(ErrorCatalog.InvalidParameter("Carousel item containers cannot be published on their own.", Product.Instagram));
            }

            switch (container.StatusCode(now))
            {
                case "EXPIRED":
                    return Fail(ErrorCatalog.Create(-2, 2207020, Product.Instagram));
                case "IN_PROGRESS":
                case "ERROR":
                    return Fail(ErrorCatalog.Create(9007, 2207027, Product.Instagram));
            }

            var quotaTotal = settings.QuotaTotal ?? state.Options.DefaultQuotaTotal;
            if (!settings.TryConsumeQuota(now, quotaTotal))
            {
                return Fail(ErrorCatalog.Create(9, 2207042, Product.Instagram));
            }

            var childMedia = new List<string>(container.Children.Count);
            foreach (var child in container.Children)
            {
                var childMediaId = state.NextMediaId();
                state.Media[childMediaId] = new Media
                {
                    Id = childMediaId,
                    Account = account,
                    ContainerId = child.Id,
                    MediaType = child.IsVideo ? "VIDEO" : "IMAGE",
                    ProductType = "CAROUSEL_ITEM",
                    MediaUrl = child.VideoUrl ?? child.ImageUrl,
                    Timestamp = now,
                    Shortcode = state.NextShortcode(),
                };
                childMedia.Add(childMediaId);
            }

            var media = new Media
            {
                Id = state.NextMediaId(),
                Account = account,
                ContainerId = container.Id,
                MediaType = container.MediaType == "CAROUSEL" ? "CAROUSEL_ALBUM" : container.IsVideo ? "VIDEO" : "IMAGE",
                ProductType = container.MediaType switch
                {
                    "REELS" => "REELS",
                    "STORIES" => "STORY",
                    _ => "FEED",
                },
                Caption = container.Caption,
                MediaUrl = container.VideoUrl ?? container.ImageUrl,
                Timestamp = now,
                Shortcode = state.NextShortcode(),
                ChildMediaIds = childMedia,
            };
            state.Media[media.Id] = media;
            container.PublishedMediaId = media.Id;

            state.AddEffect(new Effect
            {
                Seq = state.NextEffectSeq(),
                Kind = EffectKinds.InstagramMedia,
                Time = now,
                Account = account,
                RequestSeq = requestSeq,
                MediaId = media.Id,
                ContainerId = container.Id,
                MediaType = container.MediaType,
                MediaProductType = media.ProductType,
                Caption = container.Caption,
                Link = media.MediaUrl,
                Children = container.Children.Count > 0 ? container.Children.Select(c => c.Id).ToArray() : null,
                ChildMediaIds = childMedia.Count > 0 ? childMedia : null,
                Permalink = media.Permalink,
            });

            return GraphResponse.Ok(new JsonObject { ["id"] = media.Id });
        }
    }

    public static GraphResponse PublishingLimit(EmulatorState state, GraphRequest request, string account, DateTimeOffset now)
    {
        var settings = state.Account(account);
        DateTimeOffset? since = null;
        if (long.TryParse(request.Str("since"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix))
        {
            since = DateTimeOffset.FromUnixTimeSeconds(unix);
        }

        var fields = Fields(request, "quota_usage");
        var entry = new JsonObject();
        foreach (var field in fields)
        {
            switch (field)
            {
                case "quota_usage":
                    entry["quota_usage"] = settings.QuotaUsage(now, since);
                    break;
                case "config":
                    entry["config"] = new JsonObject
                    {
                        ["quota_total"] = settings.QuotaTotal ?? state.Options.DefaultQuotaTotal,
                        ["quota_duration"] = (int)AccountState.QuotaDuration.TotalSeconds,
                    };
                    break;
                default:
                    return Fail(NonexistingField(field, "ContentPublishingLimit"));
            }
        }

        return GraphResponse.Ok(new JsonObject { ["data"] = new JsonArray(entry) });
    }

    public static GraphResponse SendDm(EmulatorState state, GraphRequest request, string account, DateTimeOffset now, long requestSeq)
    {
        var recipient = GraphRequest.Str(request.Params["recipient"]?["id"]);
        if (string.IsNullOrEmpty(recipient))
        {
            return Fail(ErrorCatalog.InvalidParameter("The parameter recipient is required.", Product.Instagram));
        }

        if (request.Params["message"] is not JsonObject message)
        {
            return Fail(ErrorCatalog.InvalidParameter("The parameter message is required.", Product.Instagram));
        }

        var text = GraphRequest.Str(message["text"]);
        if (text is null && message["attachment"] is null)
        {
            return Fail(ErrorCatalog.InvalidParameter("The parameter message must contain text or an attachment.", Product.Instagram));
        }

        if (text is not null && text.Length >= MaxDmTextLength)
        {
            return Fail(ErrorCatalog.InvalidParameter($"Length of param message[text] must be less than {MaxDmTextLength}", Product.Instagram));
        }

        var settings = state.Account(account);
        var window = string.Equals(request.Str("tag"), "HUMAN_AGENT", StringComparison.OrdinalIgnoreCase) ? HumanAgentWindow : DmWindow;
        if (!settings.IsDmWindowOpen(recipient, now, window))
        {
            return Fail(ErrorCatalog.Create(10, 2534022, Product.Instagram));
        }

        var messageId = state.NextDmMessageId(account);
        state.AddEffect(new Effect
        {
            Seq = state.NextEffectSeq(),
            Kind = EffectKinds.InstagramDm,
            Time = now,
            Account = account,
            RequestSeq = requestSeq,
            RecipientId = recipient,
            MessageId = messageId,
            Text = text,
            Link = GraphRequest.Str(message["attachment"]?["payload"]?["url"]),
        });

        return GraphResponse.Ok(new JsonObject { ["recipient_id"] = recipient, ["message_id"] = messageId });
    }

    /// <summary><c>GET /{ver}/{id}</c>: a container, a media object, or a known account.</summary>
    public static GraphResponse GetObject(EmulatorState state, GraphRequest request, string id, DateTimeOffset now)
    {
        if (state.Containers.TryGetValue(id, out var container))
        {
            var result = new JsonObject();
            foreach (var field in Fields(request, "id"))
            {
                JsonNode? value = field switch
                {
                    "id" => container.Id,
                    "status_code" => container.StatusCode(now),
                    "status" => container.StatusText(now),
                    "media_type" => container.MediaType,
                    "is_carousel_item" => container.IsCarouselItem,
                    "copyright_check_status" => new JsonObject { ["status"] = "complete", ["matches_found"] = false },
                    _ => null,
                };
                if (value is null)
                {
                    return Fail(NonexistingField(field, "ShadowIGMediaBuilder"));
                }

                result[field] = value;
            }

            return GraphResponse.Ok(result);
        }

        if (state.Media.TryGetValue(id, out var media))
        {
            var result = new JsonObject();
            foreach (var field in Fields(request, "id"))
            {
                JsonNode? value = field switch
                {
                    "id" => media.Id,
                    "permalink" => media.Permalink,
                    "shortcode" => media.Shortcode,
                    "media_type" => media.MediaType,
                    "media_product_type" => media.ProductType,
                    "timestamp" => media.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+0000'", CultureInfo.InvariantCulture),
                    "caption" => media.Caption ?? "",
                    "media_url" => media.MediaUrl ?? "",
                    "thumbnail_url" => media.MediaUrl ?? "",
                    "username" => $"emu_{media.Account}",
                    "owner" => new JsonObject { ["id"] = media.Account },
                    "is_comment_enabled" => true,
                    "like_count" => 0,
                    "comments_count" => 0,
                    "children" => new JsonObject
                    {
                        ["data"] = new JsonArray(media.ChildMediaIds.Select(c => (JsonNode)new JsonObject { ["id"] = c }).ToArray()),
                    },
                    _ => null,
                };
                if (value is null)
                {
                    return Fail(NonexistingField(field, "Media"));
                }

                if (field == "caption" && media.Caption is null)
                {
                    continue;
                }

                result[field] = value;
            }

            return GraphResponse.Ok(result);
        }

        if (state.FindAccount(id) is { } account)
        {
            var result = new JsonObject();
            foreach (var field in Fields(request, "id"))
            {
                result[field] = field switch
                {
                    "id" => account.Id,
                    "username" => $"emu_{account.Id}",
                    "name" => $"Emulated account {account.Id}",
                    "media_count" => state.Media.Values.Count(m => m.Account == account.Id && m.ProductType != "CAROUSEL_ITEM"),
                    _ => null,
                };
            }

            return GraphResponse.Ok(result);
        }

        return Fail(ErrorCatalog.ObjectNotFound(id, Product.Instagram));
    }

    /// <summary>Why a caption is rejected (2200 chars, 30 hashtags, 20 mentions), or null.</summary>
    public static string? CaptionError(string caption)
    {
        if (caption.Length > MaxCaptionLength)
        {
            return $"The caption is {caption.Length} characters long; the maximum is {MaxCaptionLength}.";
        }

        int hashtags = Count(caption, '#'), mentions = Count(caption, '@');
        if (hashtags > MaxHashtags)
        {
            return $"The caption has {hashtags} hashtags; the maximum is {MaxHashtags}.";
        }

        return mentions > MaxMentions ? $"The caption has {mentions} @ tags; the maximum is {MaxMentions}." : null;
    }

    private static int Count(string caption, char marker)
    {
        var n = 0;
        for (var i = 0; i < caption.Length - 1; i++)
        {
            if (caption[i] == marker && (char.IsLetterOrDigit(caption[i + 1]) || caption[i + 1] == '_')
                && (i == 0 || !char.IsLetterOrDigit(caption[i - 1])))
            {
                n++;
            }
        }

        return n;
    }

    private static List<string> ChildIds(JsonNode? node) => node switch
    {
        JsonArray array => array.Select(GraphRequest.Str).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!.Trim()).ToList(),
        null => [],
        _ => (GraphRequest.Str(node) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
    };

    private static string[] Fields(GraphRequest request, string defaultFields) =>
        (request.Str("fields") is { Length: > 0 } fields ? fields : defaultFields)
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static GraphError NonexistingField(string field, string nodeType) =>
        ErrorCatalog.Create(100, null, Product.Instagram, $"(#100) Tried accessing nonexisting field ({field}) on node type ({nodeType})");

    private static GraphResponse Fail(GraphError error) => GraphResponse.Fail(error);
}
