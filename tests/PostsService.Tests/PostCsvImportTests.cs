using System.Globalization;
using System.Net;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>ImportPosts, GetImportOperation and ExportPosts (PostTransferService) against the service and PostgreSQL.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class PostCsvImportTests(PostsServiceFixture fixture)
{
    private const string Header = "channel_id,publish_at,time_zone,text,media,recipients,rrule,template";

    private static string At(int minutes) =>
        DateTimeOffset.UtcNow.AddDays(2).AddMinutes(minutes).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string GoodRow(string channelId, int i) =>
        $"{channelId},{At(i)},,post {i},image:https://example.com/{i}.jpg,,,";

    private static ByteString File(IEnumerable<string> rows, bool bom = false)
    {
        var text = Encoding.UTF8.GetBytes(Header + "\n" + string.Join("\n", rows) + "\n");
        return ByteString.CopyFrom(bom ? [.. Encoding.UTF8.Preamble, .. text] : text);
    }

    private async Task<long> PostsOfAsync(TestUser user) =>
        (long)(await fixture.OwnerScalarAsync("select count(*) from scheduled_posts where user_id = @user", ("user", user.Id)))!;

    private async Task<ImportOperation> ImportAndWaitAsync(TestUser user, ByteString file, List<int>? progress = null)
    {
        var operation = await fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = file }, user.Headers);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!operation.Done)
        {
            Assert.True(DateTime.UtcNow < deadline, $"import {operation.Name} did not end: {operation}");
            await Task.Delay(50);
            operation = await fixture.Transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = operation.Name }, user.Headers);
            progress?.Add(operation.Metadata.ProcessedRows);
        }
        Assert.Null(operation.Error);
        return operation;
    }

    [Fact]
    public async Task A_10000_row_file_with_37_bad_rows_reports_exactly_those_rows_with_line_and_column_and_writes_nothing_then_the_fixed_file_imports_once()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var stranger = fixture.NewUser();
        var strangersChannel = await fixture.CreateWhatsAppChannelAsync(stranger);
        // Each kind of mistake, with the column it is reported in (1-based, in the documented column order).
        var mistakes = new (Func<int, string> Row, string Column, int Position)[]
        {
            (i => $"{channel.Id},2026-12-24T09:00:00,,no offset {i},,,,", "publish_at", 2),
            (i => $"{channel.Id},2001-01-01T00:00:00Z,,in the past {i},,,,", "publish_at", 2),
            (i => $"{channel.Id},{At(i)},,bad media {i},image:ftp://example.com/a.jpg,,,", "media", 5),
            (i => $"{channel.Id},{At(i)},,no type {i},https://example.com/a.jpg,,,", "media", 5),
            (i => $"not-a-uuid,{At(i)},,bad channel {i},,,,", "channel_id", 1),
            (i => $"{strangersChannel.Id},{At(i)},,another workspace's channel {i},,,,", "channel_id", 1),
            (i => $"{channel.Id},{At(i)},Mars/Olympus,bad zone {i},,,,", "time_zone", 3),
            (i => $"{channel.Id},{At(i)},,{new string('a', 4097)},,,,", "text", 4),
            (i => $"{channel.Id},{At(i)},,bad recipient {i},,12345,,", "recipients", 6),
            (i => $"{channel.Id},{At(i)},,template {i},,,,welcome", "template", 8),
        };
        var bad = Enumerable.Range(0, 37).ToDictionary(k => 7 + k * 269, k => mistakes[k % mistakes.Length]);
        var rows = Enumerable.Range(0, 10_000).Select(i => bad.TryGetValue(i, out var m) ? m.Row(i) : GoodRow(channel.Id, i)).ToList();

        var badRequest = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = File(rows) }, user.Headers).ResponseAsync);

        var expected = bad.Select(b => $"rows[{b.Key}].{b.Value.Column}").Order().ToList();
        Assert.Equal(expected, badRequest.FieldViolations.Select(v => v.Field).Order().ToList());
        foreach (var violation in badRequest.FieldViolations)
        {
            var index = int.Parse(violation.Field[5..violation.Field.IndexOf(']')], CultureInfo.InvariantCulture);
            // Line 1 is the header, so data row i is on line i + 2.
            Assert.StartsWith($"line {index + 2}, column {bad[index].Position} ({bad[index].Column}):", violation.Description);
        }
        var notFound = badRequest.FieldViolations.Single(v => v.Field == $"rows[{bad.Keys.ElementAt(5)}].channel_id");
        Assert.Contains("NOT_FOUND", notFound.Description);
        Assert.Equal(0, await PostsOfAsync(user));

        var fixedRows = Enumerable.Range(0, 10_000).Select(i => GoodRow(channel.Id, i)).ToList();
        var first = await ImportAndWaitAsync(user, File(fixedRows));
        var again = await ImportAndWaitAsync(user, File(fixedRows));

        Assert.Equal((10_000, 0), (first.Response.CreatedPosts, first.Response.ExistingPosts));
        Assert.Equal((0, 10_000), (again.Response.CreatedPosts, again.Response.ExistingPosts));
        Assert.Equal(10_000, await PostsOfAsync(user));
    }

    [Fact]
    public async Task Another_workspaces_channel_is_that_rows_error_and_reads_as_no_channel_at_all()
    {
        var owner = fixture.NewUser();
        var intruder = fixture.NewUser();
        var ownersChannel = await fixture.CreateWhatsAppChannelAsync(owner);
        var ownChannel = await fixture.CreateWhatsAppChannelAsync(intruder);
        var rows = new[]
        {
            GoodRow(ownChannel.Id, 0), GoodRow(ownersChannel.Id, 1), GoodRow(Guid.NewGuid().ToString(), 2),
        };

        var badRequest = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = File(rows) }, intruder.Headers).ResponseAsync,
            "rows[1].channel_id", "rows[2].channel_id");

        Assert.Equal(2, badRequest.FieldViolations.Count);
        // The owner's channel is described exactly as a channel that does not exist, so its existence does not leak.
        Assert.Equal(badRequest.FieldViolations[1].Description.Replace("line 4", "line 3"), badRequest.FieldViolations[0].Description);
        Assert.Equal(0, await PostsOfAsync(intruder));
        Assert.Equal(0, await PostsOfAsync(owner));
    }

    [Fact]
    public async Task Export_then_import_round_trips_every_exported_column()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        // Whole seconds: PostgreSQL keeps microseconds, so a finer original would differ from what any read returns.
        var publishAt = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(3).ToUnixTimeSeconds());
        var originals = new[]
        {
            new CreatePostRequest
            {
                ChannelId = channel.Id, TimeZone = "Europe/Berlin", PublishAt = Timestamp.FromDateTimeOffset(publishAt),
                Content = new Content { Text = "Sale, today only: \"50%\" off\nsecond line", Media = { new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" } } },
                Recipients = { "+16505550001", "+16505550002" },
            },
            new CreatePostRequest
            {
                ChannelId = channel.Id, PublishAt = Timestamp.FromDateTimeOffset(publishAt.AddHours(1)),
                Content = new Content { Text = "-starts like a formula", Media = { new Media { Type = MediaType.Document, Url = "https://example.com/menu.pdf" } } },
            },
            new CreatePostRequest
            {
                ChannelId = channel.Id, TimeZone = "America/New_York", PublishAt = Timestamp.FromDateTimeOffset(publishAt.AddHours(2)),
                Content = new Content { Text = "every week" }, Rrule = "FREQ=WEEKLY;COUNT=3",
            },
        };
        foreach (var original in originals)
        {
            await fixture.Posts.CreatePostAsync(original, user.Headers);
        }
        var filter = new ExportPostsRequest { ChannelId = channel.Id };

        var exported = await fixture.Transfer.ExportPostsAsync(filter, user.Headers);
        Assert.Equal(3, exported.RowCount);
        await ImportAndWaitAsync(user, exported.Csv);
        var twice = await fixture.Transfer.ExportPostsAsync(filter, user.Headers);

        // Each original's row, and its imported copy's row, read back as the same create.
        var once = Rows(exported.Csv);
        Assert.Equal(originals.Select(Comparable).Order(), once.Order());
        Assert.Equal(once.Concat(once).Order(), Rows(twice.Csv).Order());
    }

    [Fact]
    public async Task A_posts_own_whatsapp_template_round_trips_through_export_and_import()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var template = new WhatsAppTemplate
        {
            Name = "order_ready",
            Language = "pt_BR",
            Components =
            {
                new WhatsAppTemplateComponent
                {
                    Type = "header", Parameters = { new WhatsAppTemplateParameter { Media = new Media { Type = MediaType.Image, Url = "https://example.com/h.jpg" } } },
                },
                new WhatsAppTemplateComponent { Type = "body", Parameters = { new WhatsAppTemplateParameter { Text = "Ana, \"50%\" off" } } },
                new WhatsAppTemplateComponent { Type = "button", SubType = "url", Index = 1, Parameters = { new WhatsAppTemplateParameter { Text = "track/42" } } },
            },
        };
        var original = new CreatePostRequest
        {
            ChannelId = channel.Id,
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(3).ToUnixTimeSeconds())),
            Content = new Content { WhatsappTemplate = template },
        };
        await fixture.Posts.CreatePostAsync(original, user.Headers);
        var filter = new ExportPostsRequest { ChannelId = channel.Id };

        var exported = await fixture.Transfer.ExportPostsAsync(filter, user.Headers);
        Assert.Equal(Comparable(original), Assert.Single(Rows(exported.Csv)));
        await ImportAndWaitAsync(user, exported.Csv);

        var posts = (await fixture.Posts.ListPostsAsync(new ListPostsRequest { ChannelId = channel.Id }, user.Headers)).Posts;
        Assert.Equal(2, posts.Count);
        Assert.All(posts, p => Assert.Equal(template, p.Content.WhatsappTemplate));
    }

    [Fact]
    public async Task A_whatsapp_template_cell_that_is_not_a_template_is_that_rows_error()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var csv = ByteString.CopyFromUtf8(Header + ",whatsapp_template\n"
            + $"{channel.Id},{At(0)},,,,,,,\"{{\"\"name\"\":\"\"order_ready\"\"}}\"\n"
            + $"{channel.Id},{At(1)},,,,,,,not json\n"
            + $"{channel.Id},{At(2)},,,,,,,\"{{\"\"name\"\":\"\"Bad Name\"\"}}\"\n");

        var bad = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = csv }, user.Headers).ResponseAsync,
            "rows[1].whatsapp_template", "rows[2].whatsapp_template");
        Assert.Equal(2, bad.FieldViolations.Count);
        Assert.StartsWith("line 3, column 10 (whatsapp_template): must be a WhatsApp message template as JSON", bad.FieldViolations[0].Description);
        Assert.StartsWith("line 4, column 10 (whatsapp_template): content.whatsapp_template.name must be the approved template's name", bad.FieldViolations[1].Description);
        Assert.Equal(0, await PostsOfAsync(user));
    }

    private static string Comparable(CreatePostRequest request) => request.ToString();

    private static List<string> Rows(ByteString csv)
    {
        var violations = new FieldViolations();
        var rows = PostCsv.Read(csv.Memory, violations);
        Assert.False(violations.Any);
        Assert.All(rows, r => Assert.False(r.CellViolations.Any));
        return rows.Select(r => Comparable(r.Request)).ToList();
    }

    [Fact]
    public async Task A_file_without_its_columns_or_rows_is_refused_as_a_whole()
    {
        var user = fixture.NewUser();
        var headerOnly = ByteString.CopyFromUtf8(Header + "\n");
        var unknownColumn = ByteString.CopyFromUtf8("channel,publish_at\nx,y\n");

        var empty = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = headerOnly }, user.Headers).ResponseAsync, "csv");
        var unknown = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = unknownColumn }, user.Headers).ResponseAsync, "csv");

        Assert.Contains("no rows", empty.FieldViolations.Single().Description);
        Assert.Contains(unknown.FieldViolations, v => v.Description.StartsWith("line 1, column 1: 'channel' is not a column", StringComparison.Ordinal));
        Assert.Contains(unknown.FieldViolations, v => v.Description == "line 1: the header lacks column 'text'");
    }

    [Fact]
    public async Task A_file_wrong_on_every_row_names_its_first_100_problems_and_counts_the_rest()
    {
        var user = fixture.NewUser();
        var rows = Enumerable.Range(0, 2000).Select(i => $"not-a-uuid,{At(i)},,post {i},,,,");

        var badRequest = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = File(rows) }, user.Headers).ResponseAsync,
            "rows[0].channel_id", "rows[99].channel_id", "csv");

        Assert.Equal(101, badRequest.FieldViolations.Count);
        Assert.StartsWith("has 1900 more problems", badRequest.FieldViolations[^1].Description);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_file_imports_with_or_without_a_byte_order_mark(bool bom)
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);

        var done = await ImportAndWaitAsync(user, File(Enumerable.Range(0, 3).Select(i => GoodRow(channel.Id, i)), bom));

        Assert.Equal(3, done.Response.CreatedPosts);
        var posts = await fixture.Posts.ListPostsAsync(new ListPostsRequest { ChannelId = channel.Id }, user.Headers);
        Assert.Equal(["post 0", "post 1", "post 2"], posts.Posts.Select(p => p.Content.Text).Order());
    }

    [Fact]
    public async Task Progress_is_readable_through_GetImportOperation_while_the_import_runs_and_only_by_its_user()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var file = File(Enumerable.Range(0, 3000).Select(i => GoodRow(channel.Id, i)));

        // The import is held in its last chunk, so its progress is read while it runs however fast the machine is.
        await using var hold = await HoldRowAsync(user, channel, file, 2999);

        var operation = await fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = file }, user.Headers);
        Assert.StartsWith("operations/", operation.Name);
        Assert.Equal(3000, operation.Metadata.TotalRows);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file.Span)), operation.Metadata.FileSha256);
        await Expect.Status(StatusCode.NotFound,
            () => fixture.Transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = operation.Name }, fixture.NewUser().Headers).ResponseAsync);

        var progress = new List<int>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (operation.Metadata.ProcessedRows == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"import {operation.Name} wrote no chunk: {operation}");
            await Task.Delay(50);
            operation = await fixture.Transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = operation.Name }, user.Headers);
            progress.Add(operation.Metadata.ProcessedRows);
        }
        Assert.False(operation.Done);
        Assert.InRange(operation.Metadata.ProcessedRows, 1, 2999);

        await hold.ReleaseAsync();
        while (!operation.Done)
        {
            Assert.True(DateTime.UtcNow < deadline, $"import {operation.Name} did not end: {operation}");
            await Task.Delay(50);
            operation = await fixture.Transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = operation.Name }, user.Headers);
            progress.Add(operation.Metadata.ProcessedRows);
        }

        Assert.Null(operation.Error);
        Assert.Equal(3000, operation.Metadata.ProcessedRows);
        Assert.Equal(3000, operation.Response.CreatedPosts);
        Assert.Equal(3000, await PostsOfAsync(user));
        Assert.Equal(progress.Order(), progress);
    }

    [Fact]
    public async Task A_contributors_imported_posts_wait_for_approval()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Import" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);

        await ImportAndWaitAsync(contributor, File([GoodRow(channel.Id, 0), GoodRow(channel.Id, 1)]));

        var posts = await fixture.Posts.ListPostsAsync(new ListPostsRequest { ChannelId = channel.Id }, contributor.Headers);
        Assert.Equal(2, posts.Posts.Count);
        Assert.All(posts.Posts, p => Assert.Equal(PostStatus.PendingApproval, p.Status));
    }

    [Fact]
    public async Task Import_progress_and_export_have_REST_routes()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var file = File([GoodRow(channel.Id, 0)]);

        var import = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, "/api/posts:import", user,
            $$"""{"csv":"{{file.ToBase64()}}"}"""));
        Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        var name = System.Text.Json.JsonDocument.Parse(await import.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString()!;
        Assert.StartsWith("operations/", name);
        var operation = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, "/api/" + name, user));
        Assert.Equal(HttpStatusCode.OK, operation.StatusCode);
        await ImportAndWaitAsync(user, file);

        var export = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, $"/api/posts:export?channelId={channel.Id}", user));
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        var csv = Convert.FromBase64String(System.Text.Json.JsonDocument.Parse(await export.Content.ReadAsStringAsync()).RootElement.GetProperty("csv").GetString()!);
        Assert.StartsWith(Header + ",whatsapp_template\n" + channel.Id + ",", Encoding.UTF8.GetString(csv));
    }

    [Fact]
    public async Task An_import_started_on_one_PostsService_is_read_with_its_progress_through_a_second_one_on_the_same_database()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var file = File(Enumerable.Range(0, 3000).Select(i => GoodRow(channel.Id, i)));
        await using var second = await Replica.StartAsync(fixture);
        await using var hold = await HoldRowAsync(user, channel, file, 2999);

        var operation = await fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = file }, user.Headers);

        var read = await WaitForAsync(second.Transfer, user, operation.Name, o => o.Metadata.ProcessedRows > 0, "wrote no chunk");
        Assert.False(read.Done);
        Assert.Equal(3000, read.Metadata.TotalRows);
        Assert.Equal(operation.Metadata.FileSha256, read.Metadata.FileSha256);
        Assert.InRange(read.Metadata.ProcessedRows, 1, 2999);
        Assert.Equal(read.Metadata.ProcessedRows, read.Response.CreatedPosts);
        await Expect.Status(StatusCode.NotFound,
            () => second.Transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = operation.Name }, fixture.NewUser().Headers).ResponseAsync);

        await hold.ReleaseAsync();
        var done = await WaitForAsync(second.Transfer, user, operation.Name, o => o.Done, "did not end");
        Assert.Null(done.Error);
        Assert.Equal((3000, 3000, 0), (done.Metadata.ProcessedRows, done.Response.CreatedPosts, done.Response.ExistingPosts));
    }

    [Fact]
    public async Task An_import_whose_PostsService_is_killed_mid_file_is_taken_over_after_its_lease_and_writes_every_row_exactly_once()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var file = File(Enumerable.Range(0, 3000).Select(i => GoodRow(channel.Id, i)));
        await using var doomed = await Replica.StartAsync(fixture);
        await using var survivor = await Replica.StartAsync(fixture);
        // Held in its fourth chunk (rows 1500-1999): the first three are written when the process dies.
        await using var hold = await HoldRowAsync(user, channel, file, 1700);

        var operation = await doomed.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = file }, user.Headers);
        var midFile = await WaitForAsync(survivor.Transfer, user, operation.Name, o => o.Metadata.ProcessedRows >= 1500, "did not reach its fourth chunk");
        Assert.Equal((1500, false), (midFile.Metadata.ProcessedRows, midFile.Done));
        doomed.Process.Kill();
        // The killed process's chunk transaction, waiting on the held row, ends with it (rolled back, never committed).
        await hold.ReleaseAsync();

        var done = await WaitForAsync(survivor.Transfer, user, operation.Name, o => o.Done, "was not taken over and ended");
        Assert.Null(done.Error);
        Assert.Equal((3000, 3000, 0), (done.Metadata.ProcessedRows, done.Response.CreatedPosts, done.Response.ExistingPosts));
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("""
            select count(*), count(distinct request_id) from scheduled_posts where user_id = @user and request_id like @prefix
            """, connection);
        count.Parameters.AddWithValue("user", user.Id);
        count.Parameters.AddWithValue("prefix", RequestIdBase(file) + "-%");
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((3000L, 3000L), (reader.GetInt64(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task An_import_waiting_longer_than_its_lease_for_the_create_bucket_keeps_its_operation()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var file = File(Enumerable.Range(0, 300).Select(i => GoodRow(channel.Id, i)));
        // Chunks of 100 from a bucket of 100 that regains 40 a second: the second and third chunks each wait 2.5 s for
        // the refill, longer than the replica's lease of 2 s, which its look for abandoned imports (every 250 ms) would
        // find run out and take over, were the lease not renewed during the wait.
        await using var replica = await Replica.StartAsync(fixture, new Dictionary<string, string?>
        {
            ["RateLimits__Period"] = "00:00:01",
            ["RateLimits__CreatesPerPeriod"] = "40",
            ["RateLimits__CreateBurst"] = "100",
            ["RateLimits__MaxBatchCreate"] = "100",
        });

        var operation = await replica.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = file }, user.Headers);
        var done = await WaitForAsync(replica.Transfer, user, operation.Name, o => o.Done, "did not end");

        Assert.Null(done.Error);
        Assert.Equal((300, 300), (done.Metadata.ProcessedRows, done.Response.CreatedPosts));
        Assert.False(replica.Process.RecentOutput.Contains("taken over after its writer's lease ran out", StringComparison.Ordinal),
            replica.Process.RecentOutput);
    }

    private static async Task<ImportOperation> WaitForAsync(PostTransferService.PostTransferServiceClient transfer, TestUser user, string name,
        Func<ImportOperation, bool> until, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var operation = await transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = name }, user.Headers);
            if (until(operation))
            {
                return operation;
            }
            Assert.True(DateTime.UtcNow < deadline, $"import {name} {failure}: {operation}");
            await Task.Delay(50);
        }
    }

    private static string RequestIdBase(ByteString file) =>
        "import-" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(file.Span)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Holds an import at row <paramref name="row"/> of <paramref name="file"/> until released: an uncommitted post under
    /// that row's request_id makes the row's insert wait (the unique index on user and request_id).
    /// </summary>
    private async Task<HeldRow> HoldRowAsync(TestUser user, Channel channel, ByteString file, int row)
    {
        var holder = new NpgsqlConnection(fixture.ConnectionString);
        await holder.OpenAsync();
        var hold = await holder.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("""
            insert into scheduled_posts (id, user_id, workspace_id, status, channel_id, platform, content_json, publish_at, due_at, request_id)
            values (gen_random_uuid(), @user, @user, 'draft', @channel, 'whatsapp', '{}', now() + interval '2 days', now() + interval '2 days', @request)
            """, holder, hold))
        {
            insert.Parameters.AddWithValue("user", user.Id);
            insert.Parameters.AddWithValue("channel", Guid.Parse(channel.Id));
            insert.Parameters.AddWithValue("request", $"{RequestIdBase(file)}-{row}");
            await insert.ExecuteNonQueryAsync();
        }
        return new HeldRow(holder, hold);
    }

    private sealed class HeldRow(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task ReleaseAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Another PostsService process on the fixture's database, as with SocialSync:Replicas=2: leases of 2 s, looked
    /// for every 250 ms, so one process takes over what another left within seconds.
    /// </summary>
    private sealed class Replica(ServiceProcess process, GrpcChannel channel) : IAsyncDisposable
    {
        private readonly GrpcChannel _channel = channel;

        public ServiceProcess Process { get; } = process;

        public PostTransferService.PostTransferServiceClient Transfer => new(_channel);

        public static async Task<Replica> StartAsync(PostsServiceFixture fixture, IReadOnlyDictionary<string, string?>? settings = null)
        {
            var environment = new Dictionary<string, string?>
            {
                ["ConnectionStrings__postsdb"] = fixture.ConnectionString,
                ["Import__LeaseDuration"] = "00:00:02",
                ["Import__ResumeInterval"] = "00:00:00.250",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                environment[key] = value;
            }
            var process = new ServiceProcess("posts-service-replica", "PostsService", environment);
            try
            {
                await process.StartAsync();
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
            return new Replica(process, GrpcChannel.ForAddress(process.GrpcAddress));
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            await Process.DisposeAsync();
        }
    }
}
