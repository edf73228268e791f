using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Binds each gRPC service's methods as Grpc.AspNetCore's own binder does (the generated BindService, the handler
/// methods the service overrides, their attributes as endpoint metadata), with one difference: request bytes that
/// do not decode as the method's message are INVALID_ARGUMENT. Grpc.AspNetCore decodes a request before any
/// interceptor runs and answers a decoding failure as a handler's exception, UNKNOWN "Exception was thrown by
/// handler."; the method's request marshaller is the one place that sees the failure, so each method is bound with
/// its marshaller wrapped. The same endpoints serve gRPC and gRPC-Web.
/// </summary>
public sealed class DecodingServiceMethodProvider<TService> : IServiceMethodProvider<TService> where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is not { } bind)
            {
                continue;
            }
            var bindService = bind.BindType.GetMethod(bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), type])
                ?? throw new InvalidOperationException($"{bind.BindType} has no {bind.BindMethodName}(ServiceBinderBase, {type.Name}).");
            // With no service instance, BindService only describes the methods: each is bound to TService's override.
            bindService.Invoke(null, [new Binder(context, type), null]);
            return;
        }
    }

    /// <summary>Request bytes that are not a <typeparamref name="TRequest"/> are the caller's error, said as such.</summary>
    private static Method<TRequest, TResponse> Decoding<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class where TResponse : class
    {
        var decode = method.RequestMarshaller.ContextualDeserializer;
        var requestMarshaller = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, payload =>
        {
            try
            {
                return decode(payload);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"The request is not a valid {typeof(TRequest).Name} message: {ex.Message}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requestMarshaller, method.ResponseMarshaller);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type serviceBase) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext));
            context.AddUnaryMethod(Decoding(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name,
                typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddServerStreamingMethod(Decoding(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name,
                typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext));
            context.AddClientStreamingMethod(Decoding(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name,
                typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddDuplexStreamingMethod(Decoding(method), metadata, invoker);
        }

        /// <summary>
        /// The service's override of <paramref name="name"/> as an open-instance delegate, and its endpoint metadata:
        /// the service type's attributes, then the method's (which win, e.g. [Authorize]), then POST with CORS preflight.
        /// </summary>
        private (TDelegate Invoker, List<object> Metadata) Handler<TDelegate>(string name, params Type[] parameters) where TDelegate : Delegate
        {
            var handler = Override(name, parameters) ?? throw new InvalidOperationException($"Could not find '{name}' on {typeof(TService)}.");
            var metadata = new List<object>();
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(handler.GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), handler), metadata);
        }

        /// <summary>The public method that overrides the generated base's virtual <paramref name="name"/> (a hiding method of the same name is skipped).</summary>
        private MethodInfo? Override(string name, Type[] parameters)
        {
            for (var type = typeof(TService); type is not null; type = type.BaseType)
            {
                var method = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters);
                if (method is null)
                {
                    return null;
                }
                if (method.IsVirtual && method.GetBaseDefinition().DeclaringType == serviceBase)
                {
                    return method;
                }
            }
            return null;
        }
    }
}

public static class DecodingServiceMethodProviderRegistration
{
    /// <summary>
    /// Binds every gRPC service with <see cref="DecodingServiceMethodProvider{TService}"/> in place of Grpc.AspNetCore's
    /// binder (two binders would map each method twice). Call after AddGrpc; fails at start if that binder is not found.
    /// </summary>
    public static IServiceCollection BindGrpcServicesDecodingStrictly(this IServiceCollection services)
    {
        var builtIn = services.SingleOrDefault(d => d.ServiceType == typeof(IServiceMethodProvider<>)
                && d.ImplementationType is { Name: "BinderServiceMethodProvider`1" })
            ?? throw new InvalidOperationException("Grpc.AspNetCore's BinderServiceMethodProvider is not registered; call AddGrpc first.");
        services.Remove(builtIn);
        services.Add(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(DecodingServiceMethodProvider<>)));
        return services;
    }
}
