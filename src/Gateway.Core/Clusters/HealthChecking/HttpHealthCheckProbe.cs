using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Tls;
using Gateway.Translation;

namespace Gateway.Clusters.HealthChecking;

/// <summary>
/// Envoy's HTTP health check: <c>&lt;method&gt; &lt;path&gt;</c> over HTTP/1.1 on a connection of its own
/// (a <see cref="SocketsHttpHandler"/> per host, never YARP's), passing on an expected status. Over the host's transport
/// socket (or the one <c>transport_socket_match_criteria</c> picked): TLS runs in the connect callback, as for requests.
/// </summary>
internal sealed class HttpHealthCheckProbe : IHealthCheckProbe
{
    private readonly HealthCheckPlan _plan;
    private readonly Uri _uri;
    private readonly HttpMethod _method;
    private readonly bool _sendUserAgent;
    private readonly SocketsHttpHandler _handler;
    private readonly HttpMessageInvoker _client;

    /// <param name="transport">The host's TLS context at the time of each new connection (null: plain text); read per connection so a reload's new context applies.</param>
    public HttpHealthCheckProbe(HealthCheckPlan plan, UpstreamHost host, Func<UpstreamTls?>? transport = null)
    {
        _plan = plan;
        _uri = new Uri("http://" + host.Address + (plan.Path.StartsWith('/') ? plan.Path : "/" + plan.Path));
        _method = new HttpMethod(plan.Method);
        _sendUserAgent = !plan.RequestHeadersToRemove.Contains("user-agent");
        _handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            // The check's timeout covers connecting too, as in Envoy.
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            // reuse_connection false: a new connection for every check.
            PooledConnectionLifetime = plan.ReuseConnection ? Timeout.InfiniteTimeSpan : TimeSpan.Zero,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = 1,
            ActivityHeadersPropagator = null,
            // Header values here come from the config: Envoy sends their UTF-8 (the default, ASCII, would refuse them).
            RequestHeaderEncodingSelector = static (_, _) => System.Text.Encoding.UTF8,
        };
        if (transport is not null)
        {
            _handler.ConnectCallback = (context, token) => ConnectAsync(context, transport(), token);
        }
        _client = new HttpMessageInvoker(_handler, disposeHandler: false);
    }

    public async Task<ProbeResult> CheckAsync(CancellationToken token)
    {
        int status;
        using (var request = new HttpRequestMessage(_method, _uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        })
        {
            request.Headers.Host = _plan.Host;
            if (_sendUserAgent)
            {
                request.Headers.TryAddWithoutValidation("user-agent", "Envoy/HC");
            }
            using var response = await _client.SendAsync(request, token).ConfigureAwait(false);
            // Read the body so the connection can carry the next check.
            await response.Content.CopyToAsync(Stream.Null, token).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        return StatusRange.Contains(_plan.ExpectedStatuses, status)
            ? ProbeResult.Success
            : ProbeResult.ActiveFailure("status " + status.ToString(CultureInfo.InvariantCulture), StatusRange.Contains(_plan.RetriableStatuses, status));
    }

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, UpstreamTls? tls, CancellationToken token)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var stream = new NetworkStream(socket, ownsSocket: true);
        // The check's SNI is the configured one (auto_sni follows requests' hosts, and a check has none of its own).
        return tls is null ? stream : await tls.HandshakeAsync(stream, tls.Sni, http2: false, token).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }
}
