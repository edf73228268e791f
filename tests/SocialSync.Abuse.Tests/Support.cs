using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using Xunit.Sdk;

namespace SocialSync.Abuse.Tests;

public sealed record UserWithPost(Guid UserId, Metadata Auth, Channel Channel, ScheduledPost Post, string AccessToken);

public static class Support
{
    public static async Task<RpcException> RefusedAsync<T>(Func<AsyncUnaryCall<T>> call)
    {
        try
        {
            using var pending = call();
            await pending.ResponseAsync;
        }
        catch (RpcException ex)
        {
            return ex;
        }
        throw new XunitException("The call succeeded; it should have been refused.");
    }

    /// <summary>The google.rpc.BadRequest of an INVALID_ARGUMENT, from the grpc-status-details-bin trailer.</summary>
    public static BadRequest? BadRequestOf(RpcException ex)
    {
        var entry = ex.Trailers.Get("grpc-status-details-bin");
        if (entry is null)
        {
            return null;
        }
        var status = Google.Rpc.Status.Parser.ParseFrom(entry.ValueBytes);
        return status.Details.FirstOrDefault(d => d.Is(BadRequest.Descriptor))?.Unpack<BadRequest>();
    }

    public static DateTime In(int seconds) => DateTime.UtcNow.AddSeconds(seconds);

    /// <summary>Every RPC of the internal API, read from its descriptor: one added later is covered without editing a test.</summary>
    /// <summary>Every RPC of every internal service (each needs a service credential).</summary>
    public static IReadOnlyList<MethodDescriptor> InternalRpcs =>
        [.. PostsInternalService.Descriptor.Methods, .. DeliveriesInternalService.Descriptor.Methods];

    /// <summary>
    /// Calls <paramref name="rpc"/> with an empty request and <paramref name="auth"/>, and returns the status it ends with
    /// (OK when it succeeds), whatever its request and response types.
    /// </summary>
    public static async Task<StatusCode> CallAsync(CallInvoker invoker, MethodDescriptor rpc, Metadata auth)
    {
        var type = (rpc.IsClientStreaming, rpc.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        var method = new Method<IMessage, IMessage>(type, rpc.Service.FullName, rpc.Name,
            Marshallers.Create<IMessage>(m => m.ToByteArray(), rpc.InputType.Parser.ParseFrom),
            Marshallers.Create<IMessage>(m => m.ToByteArray(), rpc.OutputType.Parser.ParseFrom));
        var request = (IMessage)Activator.CreateInstance(rpc.InputType.ClrType)!;
        var options = new CallOptions(auth, In(10));
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    using (var call = invoker.AsyncUnaryCall(method, null, options, request))
                    {
                        await call.ResponseAsync;
                    }
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(method, null, options, request))
                    {
                        while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }
                    break;
                default:
                    using (var call = invoker.AsyncDuplexStreamingCall(method, null, options))
                    {
                        await call.RequestStream.WriteAsync(request);
                        await call.RequestStream.CompleteAsync();
                        while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }
                    break;
            }
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    /// <summary>A new user with a WhatsApp channel and one queued post an hour away.</summary>
    public static async Task<UserWithPost> CreateUserWithPostAsync(PostsServiceFixture fixture, string? accessToken = null)
    {
        var userId = Guid.NewGuid();
        var auth = TestTokens.ForUser(userId);
        var token = accessToken ?? $"EAAabuse{Guid.NewGuid():N}";
        var channel = await fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "1098765432101",
            AccessToken = token,
            DisplayName = "abuse",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth, In(30));
        var post = await fixture.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "hello from the abuse suite" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, auth, In(30));
        return new UserWithPost(userId, auth, channel, post, token);
    }
}
