using System.Net.Security;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Tls;
using Gateway.Translation;
using Gateway.Xds;
using Grpc.Net.Client;

namespace Gateway.Hosting;

/// <summary>
/// Where a validated gRPC <c>ApiConfigSource</c> streams to: the addresses of its <c>envoy_grpc</c> static cluster (or
/// the <c>google_grpc</c> target), reached with HTTP/2, over the cluster's TLS context when it has a
/// <c>transport_socket</c> (the handshake the cluster's own connections make: SNI, verification, client certificate,
/// ALPN h2, its <c>ssl.*</c> stats) and plain text (h2c) otherwise, one address per connection attempt in turn (Envoy's
/// gRPC client picks a host through the cluster's load balancer on each stream).
/// </summary>
internal sealed class XdsServer : IXdsServer
{
    private readonly IReadOnlyList<Uri> _addresses;
    private readonly SocketsHttpHandler _handler;
    private int _next;

    private XdsServer(string name, IReadOnlyList<Uri> addresses, TimeSpan connectTimeout, UpstreamTls? tls = null)
    {
        Name = name;
        _addresses = addresses;
        _handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            // A control plane's stream lives for hours: HTTP/2 pings keep a dead peer from holding it.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = false,
            UseProxy = false,
        };
        if (tls is not null)
        {
            // The handler makes the handshake (https:// addresses, so the requests say :scheme https) with the cluster's
            // options; the stream after it counts the handshake.
            _handler.SslOptions = tls.ClientOptions(tls.Sni, Clusters.UpstreamAlpn.Http2);
            _handler.PlaintextStreamFilter = (context, _) =>
            {
                if (context.PlaintextStream is SslStream ssl)
                {
                    tls.Handshook(ssl);
                }
                return ValueTask.FromResult(context.PlaintextStream);
            };
        }
    }

    /// <summary>The cluster name or the target (for logs).</summary>
    public string Name { get; }

    /// <summary>The server a validated source names (its one gRPC service), with the bootstrap's static clusters and secrets.</summary>
    public static XdsServer For(ApiConfigSource source, Bootstrap bootstrap, EnvoyTypeRegistry types, StatsStore stats)
    {
        var bootstrapClusters = bootstrap.StaticResources?.Clusters ?? [];
        var service = source.GrpcServices[0];
        if (service.GoogleGrpc is { } google)
        {
            return new XdsServer(google.TargetUri!, GrpcTarget.TryParse(google.TargetUri!, out var target) ? [target!] : [], TimeSpan.FromSeconds(5));
        }
        var name = service.EnvoyGrpc!.ClusterName!;
        Cluster? cluster = null;
        foreach (var candidate in bootstrapClusters)
        {
            if (candidate.Name == name)
            {
                cluster = candidate;
                break;
            }
        }
        UpstreamTls? tls = null;
        if (UpstreamTlsPlan.Translate(cluster?.TransportSocket, TlsSecrets.From(bootstrap.StaticResources, types)) is { } plan)
        {
            tls = new UpstreamTls(plan, new TlsStats(stats, "cluster." + name), autoSni: false, autoSanValidation: false);
        }
        var tlsScheme = tls is null ? Uri.UriSchemeHttp : Uri.UriSchemeHttps;
        var addresses = new List<Uri>();
        foreach (var locality in cluster?.LoadAssignment?.Endpoints ?? [])
        {
            foreach (var endpoint in locality.LbEndpoints)
            {
                if (endpoint.Endpoint?.Address?.SocketAddress is { Address: { Length: > 0 } host, PortValue: { } port })
                {
                    addresses.Add(new UriBuilder(tlsScheme, host, (int)port).Uri);
                }
            }
        }
        return new XdsServer(name, addresses, cluster?.ConnectTimeout ?? TimeSpan.FromSeconds(5), tls);
    }

    /// <summary>The channel of the next connection attempt (null when the cluster has no address).</summary>
    public GrpcChannel? NextChannel()
    {
        if (_addresses.Count == 0)
        {
            return null;
        }
        var address = _addresses[_next++ % _addresses.Count];
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = _handler,
            DisposeHttpClient = false,
            // A state-of-the-world response holds every cluster or listener: no 4 MB cap (Envoy sets none either).
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
    }

    public void Dispose() => _handler.Dispose();
}
