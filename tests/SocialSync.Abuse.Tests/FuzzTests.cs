using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// Seeded, reproducible fuzzing of the public API over gRPC, raw protobuf wire bytes and REST. Every request is
/// malformed on purpose: none may end INTERNAL / UNKNOWN / UNAVAILABLE / 5xx, each gets a precise status, and the
/// database is exactly as before.
/// </summary>
[Collection(AbuseCollection.Name)]
public sealed class FuzzTests(PostsServiceFixture fixture, ITestOutputHelper output)
{
    private const int Seed = 20261128;

    private static readonly StatusCode[] Imprecise =
        [StatusCode.Internal, StatusCode.Unknown, StatusCode.Unavailable, StatusCode.DataLoss, StatusCode.Cancelled, StatusCode.DeadlineExceeded];

    [Fact]
    public async Task A_thousand_malformed_requests_get_precise_statuses_and_write_nothing()
    {
        var user = await Support.CreateUserWithPostAsync(fixture);
        var cases = new List<FuzzCase>();
        var values = new BadValues(Seed);
        var implemented = await ImplementedAsync(user);
        cases.AddRange(GrpcCases(values, user, implemented, 750));
        cases.AddRange(RawWireCases(values, user, 100));
        cases.AddRange(RestCases(values, user, 350));
        Assert.True(cases.Count >= 1000, $"only {cases.Count} cases");

        var countsBefore = await fixture.CountRowsAsync();
        var snapshotBefore = await fixture.SnapshotAsync();
        var problems = new List<string>();
        var tally = new Dictionary<string, int>();
        foreach (var fuzz in cases)
        {
            var outcome = await fuzz.Run();
            var key = fuzz.UndecodableWire ? $"grpc {outcome.Status} (undecodable protobuf)" : $"{outcome.Transport} {outcome.Status}";
            tally[key] = tally.GetValueOrDefault(key) + 1;
            if (Judge(fuzz, outcome) is { } problem)
            {
                problems.Add($"{fuzz.Name}: {problem}");
            }
        }
        output.WriteLine($"{cases.Count} cases (seed {Seed}; not implemented yet: {string.Join(", ", implemented.Where(kv => !kv.Value).Select(kv => kv.Key))})");
        output.WriteLine(string.Join(Environment.NewLine, tally.OrderBy(kv => kv.Key).Select(kv => $"  {kv.Key}: {kv.Value}")));
        // One example of each kind of problem (the case's first words), so a long run of one bug does not hide others.
        foreach (var example in problems.GroupBy(p => string.Join(' ', p.Split(' ', '=', '?').Take(4))).Select(g => $"{g.Count()} × {g.First()}"))
        {
            output.WriteLine(example);
        }
        if (problems.Count > 0)
        {
            // What the service said about them: its exceptions, once each.
            foreach (var line in fixture.OutputLines.Where(l => l.Contains("Exception", StringComparison.Ordinal)).Distinct().Take(30))
            {
                output.WriteLine($"service: {Short(line)}");
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} imprecise answers, e.g.:{Environment.NewLine}{string.Join(Environment.NewLine, problems.Take(15))}");
        Assert.Equal(countsBefore, await fixture.CountRowsAsync());
        Assert.Equal(snapshotBefore, await fixture.SnapshotAsync());
    }

    private static string? Judge(FuzzCase fuzz, FuzzOutcome outcome)
    {
        var said = $"{outcome.Transport} {outcome.Status} [{string.Join(", ", outcome.Fields)}] {Short(outcome.Detail)}";
        if (outcome.Succeeded)
        {
            return $"accepted a malformed request ({said})";
        }
        if (outcome.Transport == "grpc")
        {
            if (fuzz.UndecodableWire)
            {
                return outcome.Status == nameof(StatusCode.InvalidArgument) ? null : $"undecodable bytes not INVALID_ARGUMENT ({said})";
            }
            if (Imprecise.Any(s => s.ToString() == outcome.Status))
            {
                return $"imprecise status ({said})";
            }
            if (fuzz.Field is null)
            {
                return outcome.Status is nameof(StatusCode.InvalidArgument) or nameof(StatusCode.NotFound) or nameof(StatusCode.ResourceExhausted)
                    or nameof(StatusCode.FailedPrecondition) or nameof(StatusCode.OutOfRange)
                    ? null
                    : $"unexpected status ({said})";
            }
            if (outcome.Status == nameof(StatusCode.NotFound) && fuzz.MayBeNotFound)
            {
                return null;
            }
            if (outcome.Status != nameof(StatusCode.InvalidArgument))
            {
                return $"expected INVALID_ARGUMENT naming {fuzz.Field} ({said})";
            }
            return outcome.Fields.Any(f => f == fuzz.Field || f.StartsWith(fuzz.Field + ".", StringComparison.Ordinal) || f.StartsWith(fuzz.Field + "[", StringComparison.Ordinal))
                ? null
                : $"INVALID_ARGUMENT does not name {fuzz.Field} ({said})";
        }

        var code = int.Parse(outcome.Status, System.Globalization.CultureInfo.InvariantCulture);
        if (code >= 500)
        {
            return $"server error ({said})";
        }
        if (code == 404 && (fuzz.MayBeNotFound || fuzz.Field is null))
        {
            return null;
        }
        if (code is not (400 or 404 or 409 or 412 or 413 or 415))
        {
            return $"unexpected HTTP status ({said})";
        }
        if (fuzz.Field is not null && (code != 400 || !outcome.Detail.Contains(fuzz.Field, StringComparison.Ordinal)))
        {
            return $"expected 400 naming {fuzz.Field} ({said})";
        }
        return null;
    }

    private static bool Decodes<T>(MessageParser<T> parser, byte[] body) where T : IMessage<T>
    {
        try
        {
            parser.ParseFrom(body);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    private static string Short(string text) => text.Length > 160 ? text[..160] + "…" : text;

    /// <summary>Which RPCs of the public API exist yet (issue-3 adds Update/Delete); only those are fuzzed.</summary>
    private async Task<Dictionary<string, bool>> ImplementedAsync(UserWithPost user)
    {
        async Task<bool> Exists<T>(Func<AsyncUnaryCall<T>> call)
        {
            var outcome = await GrpcCall(call);
            return outcome.Status != nameof(StatusCode.Unimplemented);
        }
        var missing = Guid.NewGuid().ToString();
        return new Dictionary<string, bool>
        {
            ["UpdatePost"] = await Exists(() => fixture.PostClient.UpdatePostAsync(new UpdatePostRequest { Id = missing }, user.Auth, Support.In(10))),
            ["DeletePost"] = await Exists(() => fixture.PostClient.DeletePostAsync(new DeletePostRequest { Id = missing }, user.Auth, Support.In(10))),
            ["UpdateChannel"] = await Exists(() => fixture.ChannelClient.UpdateChannelAsync(new UpdateChannelRequest { Id = missing }, user.Auth, Support.In(10))),
            ["DeleteChannel"] = await Exists(() => fixture.ChannelClient.DeleteChannelAsync(new DeleteChannelRequest { Id = missing }, user.Auth, Support.In(10))),
        };
    }

    private static async Task<FuzzOutcome> GrpcCall<T>(Func<AsyncUnaryCall<T>> call)
    {
        try
        {
            using var pending = call();
            await pending.ResponseAsync;
            return new FuzzOutcome("grpc", "OK", [], "", true);
        }
        catch (RpcException ex)
        {
            var fields = Support.BadRequestOf(ex)?.FieldViolations.Select(v => v.Field).ToList() ?? [];
            return new FuzzOutcome("grpc", ex.StatusCode.ToString(), fields, ex.Status.Detail, false);
        }
    }

    private IEnumerable<FuzzCase> GrpcCases(BadValues v, UserWithPost user, IReadOnlyDictionary<string, bool> implemented, int count)
    {
        var posts = fixture.PostClient;
        var channels = fixture.ChannelClient;
        var auth = user.Auth;
        CreatePostRequest ValidPost() => new()
        {
            ChannelId = user.Channel.Id,
            Content = new Content { Text = v.Pick(BadValues.Injections).Replace("\0", "", StringComparison.Ordinal) + " fine text" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(2)),
        };
        CreateChannelRequest ValidChannel() => new()
        {
            Platform = Platform.Whatsapp,
            AccountId = "1098765432101",
            AccessToken = "EAAfuzz",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        };
        FuzzCase Case(string name, string? field, bool notFound, Func<Task<FuzzOutcome>> run) => new(name, field, notFound, run);

        for (var i = 0; i < count; i++)
        {
            var kind = v.Random.Next(implemented["UpdatePost"] ? 24 : 21);
            switch (kind)
            {
                case 0:
                {
                    var id = v.Id();
                    var r = ValidPost();
                    r.ChannelId = id;
                    yield return Case($"CreatePost channel_id={Short(id)}", "channel_id", Guid.TryParse(id, out _), () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 1:
                {
                    var r = ValidPost();
                    var which = v.Random.Next(5);
                    r.Content = which switch
                    {
                        0 => null,
                        1 => new Content(),
                        2 => new Content { Text = "   \t\n" },
                        3 => new Content { Text = v.Huge(4097, 20_000) },
                        _ => new Content { Text = "nul \u0000 inside" },
                    };
                    var field = which is 0 or 1 or 2 ? "content" : "content.text";
                    yield return Case($"CreatePost content#{which}", field, false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 2:
                {
                    var r = ValidPost();
                    var n = v.Random.Next(11, 60);
                    for (var m = 0; m < n; m++)
                    {
                        r.Content.Media.Add(new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" });
                    }
                    yield return Case($"CreatePost {n} media", "content.media", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 3:
                {
                    var r = ValidPost();
                    var type = v.BadEnum();
                    r.Content.Media.Add(new Media { Type = (MediaType)type, Url = "https://example.com/a.jpg" });
                    yield return Case($"CreatePost media type {type}", "content.media[0].type", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 4:
                {
                    var r = ValidPost();
                    var url = v.BadUrl();
                    r.Content.Media.Add(new Media { Type = MediaType.Image, Url = url });
                    yield return Case($"CreatePost media url {Short(url)}", "content.media[0].url", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 5:
                {
                    var r = ValidPost();
                    r.PublishAt = v.BadTime();
                    yield return Case($"CreatePost publish_at {r.PublishAt}", "publish_at", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 6:
                {
                    var r = ValidPost();
                    r.RequestId = v.Huge(65, 10_000);
                    yield return Case("CreatePost request_id too long", "request_id", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 7:
                {
                    var r = ValidPost();
                    r.TimeZone = v.BadTimeZone();
                    yield return Case($"CreatePost time_zone {Short(r.TimeZone)}", "time_zone", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 8:
                {
                    var r = ValidPost();
                    r.Rrule = v.BadRule();
                    yield return Case($"CreatePost rrule {Short(r.Rrule)}", "rrule", false, () => GrpcCall(() => posts.CreatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 9:
                {
                    var id = v.Id();
                    yield return Case($"GetPost id={Short(id)}", "id", Guid.TryParse(id, out _), () => GrpcCall(() => posts.GetPostAsync(new GetPostRequest { Id = id }, auth, Support.In(20))));
                    break;
                }
                case 10:
                {
                    var id = v.Id();
                    yield return Case($"CancelPost id={Short(id)}", "id", Guid.TryParse(id, out _), () => GrpcCall(() => posts.CancelPostAsync(new CancelPostRequest { Id = id }, auth, Support.In(20))));
                    break;
                }
                case 11:
                {
                    var id = v.Id();
                    yield return Case($"ListPostRuns id={Short(id)}", "id", Guid.TryParse(id, out _), () => GrpcCall(() => posts.ListPostRunsAsync(new ListPostRunsRequest { Id = id }, auth, Support.In(20))));
                    break;
                }
                case 12:
                {
                    var limit = v.BadPageSize();
                    yield return Case($"ListPostRuns limit={limit}", "limit", false, () => GrpcCall(() => posts.ListPostRunsAsync(new ListPostRunsRequest { Id = user.Post.Id, Limit = limit }, auth, Support.In(20))));
                    break;
                }
                case 13:
                {
                    var r = new ListPostsRequest();
                    string field;
                    switch (v.Random.Next(8))
                    {
                        case 0: r.PageSize = v.BadPageSize(); field = "page_size"; break;
                        case 1: r.Limit = v.BadPageSize(); field = "limit"; break;
                        case 2: r.Offset = v.Pick([-1, int.MinValue, -50]); field = "offset"; break;
                        case 3: r.PageToken = v.Pick(BadValues.Injections.Append("bzE6LTE=").Append(v.Huge(10, 5000)).ToList()); field = "page_token"; break;
                        case 4: r.Status = v.Pick(BadValues.Injections.Append("QUEUED ").Append("sent").ToList()); field = "status"; break;
                        case 5: r.StatusFilter = (PostStatus)v.BadEnum(); field = "status_filter"; break;
                        case 6: r.Platform = v.Pick(BadValues.Injections.Append("tiktok").ToList()); field = "platform"; break;
                        default: r.PlatformFilter = (Platform)v.BadEnum(); field = "platform_filter"; break;
                    }
                    if (string.IsNullOrEmpty(r.Status) && field == "status")
                    {
                        r.Status = "x";
                    }
                    yield return Case($"ListPosts {field}", field, false, () => GrpcCall(() => posts.ListPostsAsync(r, auth, Support.In(20))));
                    break;
                }
                case 14:
                {
                    var id = v.Id();
                    if (Guid.TryParse(id, out _) || id.Length == 0)
                    {
                        id = "x" + id;
                    }
                    yield return Case($"ListPosts channel_id={Short(id)}", "channel_id", false, () => GrpcCall(() => posts.ListPostsAsync(new ListPostsRequest { ChannelId = id }, auth, Support.In(20))));
                    break;
                }
                case 15:
                {
                    var r = ValidChannel();
                    var p = v.Pick([0, 3, 99, -1, int.MaxValue]);
                    r.Platform = (Platform)p;
                    yield return Case($"CreateChannel platform={p}", "platform", false, () => GrpcCall(() => channels.CreateChannelAsync(r, auth, Support.In(20))));
                    break;
                }
                case 16:
                {
                    var r = ValidChannel();
                    string field;
                    switch (v.Random.Next(5))
                    {
                        case 0: r.AccountId = v.Pick(["", "   ", v.Huge(129, 10_000)]); field = "account_id"; break;
                        case 1: r.AccessToken = v.Pick(["", "  \t", v.Huge(4097, 20_000)]); field = "access_token"; break;
                        case 2: r.DisplayName = v.Huge(201, 10_000); field = "display_name"; break;
                        case 3: r.DisplayName = "nul \u0000 name"; field = "display_name"; break;
                        default: r.AccountId = "12\u000034"; field = "account_id"; break;
                    }
                    yield return Case($"CreateChannel {field}", field, false, () => GrpcCall(() => channels.CreateChannelAsync(r, auth, Support.In(20))));
                    break;
                }
                case 17:
                {
                    var r = ValidChannel();
                    string field;
                    switch (v.Random.Next(6))
                    {
                        case 0: r.Settings.Recipients.Clear(); field = "settings.recipients"; break;
                        case 1: r.Settings.Recipients[0] = v.Pick(BadValues.Injections.Append("+0123").Append("abc").Append(v.Huge(20, 3000)).ToList()); field = "settings.recipients"; break;
                        case 2: r.Settings.Recipients.AddRange(Enumerable.Repeat("+16505551234", 51)); field = "settings.recipients"; break;
                        case 3: r.Settings.AmbiguousSendPolicy = (AmbiguousSendPolicy)v.BadEnum(); field = "settings.ambiguous_send_policy"; break;
                        case 4: r.Settings.InstagramMode = (InstagramMode)v.BadEnum(); field = "settings.instagram_mode"; break;
                        default:
                            if (v.Random.Next(2) == 0)
                            {
                                r.Settings.TemplateName = v.Huge(513, 5000);
                                field = "settings.template_name";
                            }
                            else
                            {
                                r.Settings.TemplateName = "promo";
                                r.Settings.TemplateLanguage = v.Huge(17, 500);
                                field = "settings.template_language";
                            }
                            break;
                    }
                    yield return Case($"CreateChannel {field}", field, false, () => GrpcCall(() => channels.CreateChannelAsync(r, auth, Support.In(20))));
                    break;
                }
                case 18:
                {
                    var id = v.Id();
                    yield return Case($"GetChannel id={Short(id)}", "id", Guid.TryParse(id, out _), () => GrpcCall(() => channels.GetChannelAsync(new GetChannelRequest { Id = id }, auth, Support.In(20))));
                    break;
                }
                case 19:
                {
                    var r = new ListChannelsRequest();
                    string field;
                    switch (v.Random.Next(3))
                    {
                        case 0: r.PageSize = v.BadPageSize(); field = "page_size"; break;
                        case 1: r.PageToken = v.Pick(BadValues.Injections.Append("bzE6LTE=").ToList()); field = "page_token"; break;
                        default: r.PlatformFilter = (Platform)v.BadEnum(); field = "platform_filter"; break;
                    }
                    yield return Case($"ListChannels {field}", field, false, () => GrpcCall(() => channels.ListChannelsAsync(r, auth, Support.In(20))));
                    break;
                }
                case 20:
                {
                    // An Instagram channel with a bad mode/recipient combination.
                    var r = new CreateChannelRequest
                    {
                        Platform = Platform.Instagram,
                        AccountId = "17841400000000001",
                        AccessToken = "EAAfuzz",
                        Settings = new ChannelSettings { InstagramMode = InstagramMode.DirectMessage, InstagramRecipientId = v.Pick(["", "  "]) },
                    };
                    yield return Case("CreateChannel DM without recipient", "settings.instagram_recipient_id", false, () => GrpcCall(() => channels.CreateChannelAsync(r, auth, Support.In(20))));
                    break;
                }
                case 21:
                {
                    var id = v.Id();
                    var r = new UpdatePostRequest { Id = id, Content = new Content { Text = "x" }, UpdateMask = new FieldMask { Paths = { "content" } } };
                    yield return Case($"UpdatePost id={Short(id)}", "id", Guid.TryParse(id, out _), () => GrpcCall(() => posts.UpdatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                case 22:
                {
                    var r = new UpdatePostRequest { Id = user.Post.Id, PublishAt = v.BadTime() ?? new Timestamp { Seconds = 1 }, UpdateMask = new FieldMask { Paths = { "publish_at" } } };
                    yield return Case($"UpdatePost publish_at {r.PublishAt}", "publish_at", false, () => GrpcCall(() => posts.UpdatePostAsync(r, auth, Support.In(20))));
                    break;
                }
                default:
                {
                    var path = v.Pick(["status", "user_id", "id", "'; drop table x", "content.text.x", "platform", "published_at", v.Huge(5, 500)]);
                    var r = new UpdatePostRequest { Id = user.Post.Id, UpdateMask = new FieldMask { Paths = { path } } };
                    yield return Case($"UpdatePost update_mask {Short(path)}", "update_mask", false, () => GrpcCall(() => posts.UpdatePostAsync(r, auth, Support.In(20))));
                    break;
                }
            }
        }
    }

    /// <summary>Protobuf wire bytes no typed client would send: strings that are not UTF-8, truncations, lies about lengths.</summary>
    private IEnumerable<FuzzCase> RawWireCases(BadValues v, UserWithPost user, int count)
    {
        var invoker = fixture.Channel.CreateCallInvoker();
        var marshaller = Marshallers.Create(b => b, b => b);
        Method<byte[], byte[]> Method(string service, string name) => new(MethodType.Unary, service, name, marshaller, marshaller);
        var createPost = Method("socialsync.posts.v1.PostService", "CreatePost");
        var getPost = Method("socialsync.posts.v1.PostService", "GetPost");
        var createChannel = Method("socialsync.posts.v1.ChannelService", "CreateChannel");

        async Task<FuzzOutcome> Send(Method<byte[], byte[]> method, byte[] body)
        {
            try
            {
                await invoker.AsyncUnaryCall(method, null, new CallOptions(user.Auth, Support.In(20)), body);
                return new FuzzOutcome("grpc", "OK", [], "", true);
            }
            catch (RpcException ex)
            {
                var fields = Support.BadRequestOf(ex)?.FieldViolations.Select(f => f.Field).ToList() ?? [];
                return new FuzzOutcome("grpc", ex.StatusCode.ToString(), fields, ex.Status.Detail, false);
            }
        }

        byte[] Valid() => new CreatePostRequest
        {
            ChannelId = user.Channel.Id,
            Content = new Content { Text = "wire" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(3)),
        }.ToByteArray();

        for (var i = 0; i < count; i++)
        {
            switch (v.Random.Next(7))
            {
                case 0:
                {
                    // channel_id (field 1) that is not UTF-8; the rest valid.
                    using var stream = new MemoryStream();
                    var o = new CodedOutputStream(stream);
                    BadValues.WriteRawString(o, 1, v.InvalidUtf8());
                    o.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    o.WriteMessage(new Content { Text = "wire" });
                    o.WriteTag(3, WireFormat.WireType.LengthDelimited);
                    o.WriteMessage(Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(3)));
                    o.Flush();
                    var body = stream.ToArray();
                    yield return new FuzzCase("raw CreatePost channel_id not UTF-8", null, false, () => Send(createPost, body), !Decodes(CreatePostRequest.Parser, body));
                    break;
                }
                case 1:
                {
                    // content.text that is not UTF-8 and an unknown channel: refused either way, nothing written.
                    using var content = new MemoryStream();
                    var c = new CodedOutputStream(content);
                    BadValues.WriteRawString(c, 1, v.InvalidUtf8());
                    c.Flush();
                    using var stream = new MemoryStream();
                    var o = new CodedOutputStream(stream);
                    o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                    o.WriteString(Guid.NewGuid().ToString());
                    o.WriteTag(2, WireFormat.WireType.LengthDelimited);
                    o.WriteBytes(ByteString.CopyFrom(content.ToArray()));
                    o.Flush();
                    var body = stream.ToArray();
                    yield return new FuzzCase("raw CreatePost content.text not UTF-8", null, false, () => Send(createPost, body), !Decodes(CreatePostRequest.Parser, body));
                    break;
                }
                case 2:
                {
                    var valid = Valid();
                    var cut = v.Random.Next(1, valid.Length - 1);
                    var body = valid[..cut];
                    yield return new FuzzCase($"raw CreatePost truncated at {cut}", null, false, () => Send(createPost, body), !Decodes(CreatePostRequest.Parser, body));
                    break;
                }
                case 3:
                {
                    // A length prefix far beyond the message.
                    byte[] body = [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x41, 0x42];
                    yield return new FuzzCase("raw CreatePost length beyond end", null, false, () => Send(createPost, body), !Decodes(CreatePostRequest.Parser, body));
                    break;
                }
                case 4:
                {
                    var body = new byte[v.Random.Next(1, 300)];
                    v.Random.NextBytes(body);
                    yield return new FuzzCase("raw CreatePost random bytes", null, false, () => Send(createPost, body), !Decodes(CreatePostRequest.Parser, body));
                    break;
                }
                case 5:
                {
                    using var stream = new MemoryStream();
                    var o = new CodedOutputStream(stream);
                    BadValues.WriteRawString(o, 1, v.InvalidUtf8());
                    o.Flush();
                    var body = stream.ToArray();
                    yield return new FuzzCase("raw GetPost id not UTF-8", null, false, () => Send(getPost, body), !Decodes(GetPostRequest.Parser, body));
                    break;
                }
                default:
                {
                    using var stream = new MemoryStream();
                    var o = new CodedOutputStream(stream);
                    o.WriteTag(1, WireFormat.WireType.Varint);
                    o.WriteEnum(1);
                    BadValues.WriteRawString(o, 2, v.InvalidUtf8());
                    BadValues.WriteRawString(o, 3, v.InvalidUtf8());
                    BadValues.WriteRawString(o, 4, v.InvalidUtf8());
                    o.Flush();
                    var body = stream.ToArray();
                    yield return new FuzzCase("raw CreateChannel strings not UTF-8", null, false, () => Send(createChannel, body), !Decodes(CreateChannelRequest.Parser, body));
                    break;
                }
            }
        }
    }

    private IEnumerable<FuzzCase> RestCases(BadValues v, UserWithPost user, int count)
    {
        var token = TestTokens.User(user.UserId);
        async Task<FuzzOutcome> Send(HttpMethod method, string path, byte[]? body)
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            using var response = await fixture.Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return new FuzzOutcome("rest", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), [], text, response.IsSuccessStatusCode);
        }
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        static string Json(string s) => System.Text.Json.JsonSerializer.Serialize(s);
        var future = DateTimeOffset.UtcNow.AddHours(2).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var channel = user.Channel.Id;

        for (var i = 0; i < count; i++)
        {
            switch (v.Random.Next(12))
            {
                case 0:
                {
                    var body = new byte[v.Random.Next(1, 400)];
                    v.Random.NextBytes(body);
                    yield return new FuzzCase("REST POST /api/posts random bytes", null, false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 1:
                {
                    byte[] body = [.. Utf8("{\"channel_id\":\""), .. v.InvalidUtf8(), .. Utf8($"\",\"content\":{{\"text\":\"x\"}},\"publish_at\":\"{future}\"}}")];
                    yield return new FuzzCase("REST POST /api/posts channel_id not UTF-8", null, false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 2:
                {
                    byte[] body = [.. Utf8($"{{\"channel_id\":\"{channel}\",\"content\":{{\"text\":\""), .. v.InvalidUtf8(), .. Utf8($"\"}},\"publish_at\":\"{future}\"}}")];
                    yield return new FuzzCase("REST POST /api/posts text not UTF-8", null, false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 3:
                {
                    var id = v.Id();
                    var body = Utf8($"{{\"channel_id\":{Json(id)},\"content\":{{\"text\":\"x\"}},\"publish_at\":\"{future}\"}}");
                    yield return new FuzzCase($"REST POST /api/posts channel_id={Short(id)}", "channel_id", Guid.TryParse(id, out _), () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 4:
                {
                    var at = v.Pick(["\"not-a-time\"", "12345", "\"2025-13-45T99:99:99Z\"", "\"\"", "true", "{}", "[]", "\"9999-12-31T23:59:59Z\"", "\"1970-01-01T00:00:00Z\"", "\"0001-01-01T00:00:00Z\""]);
                    var body = Utf8($"{{\"channel_id\":\"{channel}\",\"content\":{{\"text\":\"x\"}},\"publish_at\":{at}}}");
                    yield return new FuzzCase($"REST POST /api/posts publish_at={at}", null, false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 5:
                {
                    var type = v.Pick(["\"HOLOGRAM\"", "99", "-1", "\"MEDIA_TYPE_UNSPECIFIED\"", "null", "1.5", "\"' OR 1=1\""]);
                    var body = Utf8($"{{\"channel_id\":\"{channel}\",\"content\":{{\"text\":\"x\",\"media\":[{{\"type\":{type},\"url\":\"https://e.com/a.jpg\"}}]}},\"publish_at\":\"{future}\"}}");
                    yield return new FuzzCase($"REST POST /api/posts media type {type}", null, false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 6:
                {
                    var depth = v.Random.Next(100, 3000);
                    var body = Utf8("{\"content\":" + string.Concat(Enumerable.Repeat("{\"text\":", depth)) + "1" + new string('}', depth + 1));
                    yield return new FuzzCase($"REST POST /api/posts nested {depth} deep", null, false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
                case 7:
                {
                    var (param, value) = v.Random.Next(8) switch
                    {
                        0 => ("limit", v.Pick(["-1", "101", "abc", "99999999999", "1e3", "", "%00"])),
                        1 => ("offset", v.Pick(["-1", "abc", "99999999999", "-99999999999"])),
                        2 => ("status", Uri.EscapeDataString(v.Pick(BadValues.Injections))),
                        3 => ("platform", Uri.EscapeDataString(v.Pick(BadValues.Injections))),
                        4 => ("channel_id", Uri.EscapeDataString("x" + v.Pick(BadValues.Injections))),
                        5 => ("page_token", Uri.EscapeDataString(v.Pick(BadValues.Injections))),
                        6 => ("page_size", v.Pick(["-5", "1000", "zz"])),
                        _ => ("status_filter", v.Pick(["99", "NOPE", "-1"])),
                    };
                    if (value.Length == 0)
                    {
                        value = "x";
                    }
                    yield return new FuzzCase($"REST GET /api/posts?{param}={Short(value)}", null, false, () => Send(HttpMethod.Get, $"/api/posts?{param}={value}", null));
                    break;
                }
                case 8:
                {
                    var id = v.Pick([Uri.EscapeDataString(v.Pick(BadValues.Injections)), "not-a-uuid", "%FF%FE", "..%2F..%2Fetc", Uri.EscapeDataString(v.RandomUnicode(20)), "%C3%28", Guid.NewGuid().ToString()]);
                    var method = v.Pick([HttpMethod.Get, HttpMethod.Delete]);
                    var field = id.Length == 36 ? null : "id";
                    yield return new FuzzCase($"REST {method} /api/posts/{Short(id)}", null, field is null, () => Send(method, $"/api/posts/{id}", null));
                    break;
                }
                case 9:
                {
                    var limit = v.Pick(["-1", "101", "abc", "99999999999"]);
                    yield return new FuzzCase($"REST GET runs limit={limit}", null, false, () => Send(HttpMethod.Get, $"/api/posts/{user.Post.Id}/runs?limit={limit}", null));
                    break;
                }
                case 10:
                {
                    var body = v.Random.Next(4) switch
                    {
                        0 => Utf8("{\"platform\":\"PLATFORM_TIKTOK\",\"account_id\":\"1\",\"access_token\":\"x\"}"),
                        1 => Utf8("{\"platform\":99,\"account_id\":\"1\",\"access_token\":\"x\"}"),
                        2 => [.. Utf8("{\"platform\":\"PLATFORM_WHATSAPP\",\"account_id\":\""), .. v.InvalidUtf8(), .. Utf8("\",\"access_token\":\"x\"}")],
                        _ => Utf8($"{{\"platform\":\"PLATFORM_WHATSAPP\",\"account_id\":\"1\",\"access_token\":\"x\",\"settings\":{{\"recipients\":[{Json(v.Pick(BadValues.Injections))}]}}}}"),
                    };
                    yield return new FuzzCase("REST POST /api/channels malformed", null, false, () => Send(HttpMethod.Post, "/api/channels", body));
                    break;
                }
                default:
                {
                    var text = v.Huge(20_000, 200_000);
                    var body = Utf8($"{{\"channel_id\":\"{channel}\",\"content\":{{\"text\":\"{text}\"}},\"publish_at\":\"{future}\"}}");
                    yield return new FuzzCase($"REST POST /api/posts text of {text.Length}", "content.text", false, () => Send(HttpMethod.Post, "/api/posts", body));
                    break;
                }
            }
        }
    }
}
