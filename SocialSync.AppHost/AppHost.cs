using Microsoft.Extensions.Configuration;
using SocialSync.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// No key or password has a value written here: each is generated on the first run and kept in this project's user
// secrets (so tokens and encrypted channel tokens stay valid across runs); a deployment supplies its own.
// jwt-signing-key signs development user tokens (./build.sh token); service-signing-key signs the services' tokens to
// each other and is given to the three services only, so nothing that issues user tokens can mint one.
var jwtSigningKey = builder.AddGeneratedSecret("jwt-signing-key");
var serviceSigningKey = builder.AddGeneratedSecret("service-signing-key");
var tokenEncryptionKey = builder.AddGeneratedSecret("token-encryption-key");
var dbAppPassword = builder.AddGeneratedSecret("postsdb-app-password");
var identityDbPassword = builder.AddGeneratedSecret("identitydb-password");
// Meta's webhooks: the app secret that signs them and the token of the subscription handshake (docs/webhooks.md).
var metaAppSecret = builder.AddGeneratedSecret("meta-app-secret");
var webhookVerifyToken = builder.AddGeneratedSecret("meta-webhook-verify-token");

// Replicas of each service (--SocialSync:Replicas=2): each endpoint is then DCP's proxy, which spreads calls over the
// replicas; nothing that must be shared lives in one process's memory (docs/scheduler.md, "Replicas").
var replicas = builder.Configuration.GetValue("SocialSync:Replicas", 1);

var (postsdb, redis) = builder.AddSocialSyncInfrastructure();
var identitydb = builder.AddOwnedDatabase("identitydb", role: "socialsync_identity", identityDbPassword);

var emulator = builder.AddProject<Projects.GraphApiEmulator>("graph-api-emulator", launchProfileName: null)
    .WithHttpEndpoint(port: 5400, name: "http")
    .WithHttpHealthCheck("/health");

// The built-in OIDC provider (sign-in, tokens for users and their scripts); any OIDC provider can replace it (docs/security.md).
var identity = builder.AddProject<Projects.SocialSync_Identity>("identity", launchProfileName: null)
    .WithHttpEndpoint(port: 5500, name: "http", env: "HTTP_PORT")
    .WithHttpHealthCheck("/health", endpointName: "http")
    .WithReference(identitydb).WaitFor(identitydb)
    .WithIssuerAt("http");

var posts = builder.AddProject<Projects.PostsService>("posts-service", launchProfileName: null)
    .WithGrpcAndHttpEndpoints(basePort: 5100)
    .WithReference(postsdb).WaitFor(postsdb)
    .WithEnvironment("Auth__Users__SigningKey", jwtSigningKey)
    .WithEnvironment("Auth__Services__SigningKey", serviceSigningKey)
    .WithEnvironment("Tokens__EncryptionKey", tokenEncryptionKey)
    .WithEnvironment("Database__AppPassword", dbAppPassword)
    .WithUserTokensFrom(identity)
    .WithMediaChecks()
    .WithReplicas(replicas);

var scheduler = builder.AddProject<Projects.SchedulerService>("scheduler-service", launchProfileName: null)
    .WithGrpcAndHttpEndpoints(basePort: 5200)
    .WithReference(redis).WaitFor(redis)
    .WithReference(posts).WaitFor(posts)
    .WithEnvironment("Auth__Services__SigningKey", serviceSigningKey)
    .WithReplicas(replicas);

var publisher = builder.AddProject<Projects.PublisherService>("publisher-service", launchProfileName: null)
    .WithGrpcAndHttpEndpoints(basePort: 5300)
    .WithReference(posts).WaitFor(posts)
    .WithEnvironment("Auth__Services__SigningKey", serviceSigningKey)
    .WithGraphApi(emulator)
    .WithMetaWebhooks(emulator, posts, metaAppSecret, webhookVerifyToken)
    .WithMediaChecks()
    .WithReplicas(replicas);

scheduler.WithReference(publisher).WaitFor(publisher);

// The browsers' one entry: people sign in here (with the identity provider) and the web app's calls go through it.
var gateway = builder.AddProject<Projects.SocialSync_Gateway>("gateway", launchProfileName: null)
    .WithHttpEndpoint(port: 5000, name: "http", env: "HTTP_PORT")
    .WithHttpHealthCheck("/health", endpointName: "http")
    .WithExternalHttpEndpoints()
    .WithReference(posts).WaitFor(posts)
    .WithSignInBy(identity)
    .WithSharedSessionKeyRing()
    .WithDashboardLinks()
    .WithReplicas(replicas);
identity.WithWebClientAt(gateway.GetEndpoint("http"));

builder.Build().Run();
