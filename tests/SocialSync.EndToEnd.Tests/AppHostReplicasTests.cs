using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using SocialSync.Testing;

namespace SocialSync.EndToEnd.Tests;

/// <summary>
/// The AppHost runs every service with the replicas its setting asks for (<c>--SocialSync:Replicas=2</c>), and one of
/// each without it. The model is read, not run: the chaos run is where replicas publish under faults.
/// </summary>
public sealed class AppHostReplicasTests
{
    private static readonly string[] Services = ["posts-service", "scheduler-service", "publisher-service", "gateway"];

    [Fact]
    public async Task The_replicas_setting_gives_every_service_that_many_replicas()
    {
        var replicas = await ReplicasAsync("SocialSync:Replicas=2");

        Assert.All(Services, service => Assert.Equal(2, replicas[service]));
    }

    [Fact]
    public async Task Without_the_setting_every_service_runs_once()
    {
        var replicas = await ReplicasAsync();

        Assert.All(Services, service => Assert.Equal(1, replicas[service]));
    }

    [Fact]
    public async Task Every_gateway_replica_is_given_the_one_key_ring_in_the_runs_data_folder()
    {
        // GatewayTests shows two gateways reading each other's sessions through such a folder, and a gateway without
        // it refusing them.
        var data = Directory.CreateTempSubdirectory("socialsync-apphost-data-").FullName;
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SocialSync_AppHost>(
                ["SocialSync:Infrastructure=local", $"SocialSync:DataDirectory={data}", "SocialSync:Replicas=2", .. TestTokens.AppHostSecretArguments]);
            await using var app = await builder.BuildAsync();
            var gateway = builder.Resources.Single(r => r.Name == "gateway");
            var environment = new EnvironmentCallbackContext(app.Services.GetRequiredService<DistributedApplicationExecutionContext>(), gateway);
            foreach (var callback in gateway.Annotations.OfType<EnvironmentCallbackAnnotation>())
            {
                await callback.Callback(environment);
            }

            Assert.Equal(Path.Combine(data, "gateway-keys"), environment.EnvironmentVariables["Gateway__KeyRingPath"]);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<Dictionary<string, int>> ReplicasAsync(params string[] settings)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SocialSync_AppHost>(
            ["SocialSync:Infrastructure=local", .. TestTokens.AppHostSecretArguments, .. settings]);
        return Services.ToDictionary(name => name, name => builder.Resources.Single(r => r.Name == name)
            .Annotations.OfType<ReplicaAnnotation>().SingleOrDefault()?.Replicas ?? 1);
    }
}
