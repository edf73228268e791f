using SocialSync.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

var jwtSigningKey = builder.AddParameter("jwt-signing-key", "socialsync-development-signing-key-change-me-0123456789", secret: true);
var tokenEncryptionKey = builder.AddParameter("token-encryption-key", "c29jaWFsc3luYy1kZXYtdG9rZW4ta2V5LTMyYnl0ZXM=", secret: true);
var dbAppPassword = builder.AddParameter("postsdb-app-password", "socialsync-app-dev-password", secret: true);

var (postsdb, redis) = builder.AddSocialSyncInfrastructure();

var emulator = builder.AddProject<Projects.GraphApiEmulator>("graph-api-emulator", launchProfileName: null)
    .WithHttpEndpoint(port: 5400, name: "http")
    .WithHttpHealthCheck("/health");

var posts = builder.AddProject<Projects.PostsService>("posts-service", launchProfileName: null)
    .WithGrpcAndHttpEndpoints(basePort: 5100)
    .WithReference(postsdb).WaitFor(postsdb)
    .WithEnvironment("Auth__SigningKey", jwtSigningKey)
    .WithEnvironment("Tokens__EncryptionKey", tokenEncryptionKey)
    .WithEnvironment("Database__AppPassword", dbAppPassword);

var scheduler = builder.AddProject<Projects.SchedulerService>("scheduler-service", launchProfileName: null)
    .WithGrpcAndHttpEndpoints(basePort: 5200)
    .WithReference(redis).WaitFor(redis)
    .WithReference(posts).WaitFor(posts)
    .WithEnvironment("Auth__SigningKey", jwtSigningKey);

var publisher = builder.AddProject<Projects.PublisherService>("publisher-service", launchProfileName: null)
    .WithGrpcAndHttpEndpoints(basePort: 5300)
    .WithReference(posts).WaitFor(posts)
    .WithEnvironment("Auth__SigningKey", jwtSigningKey)
    .WithGraphApi(emulator);

scheduler.WithReference(publisher).WaitFor(publisher);

builder.Build().Run();
