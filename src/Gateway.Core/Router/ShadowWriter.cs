using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Tracing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Router;

/// <summary>One compiled <c>request_mirror_policies</c> entry of a route (the cluster resolved once when it is named).</summary>
internal sealed class ShadowPolicy
{
    private ShadowPolicy(MirrorPolicyPlan plan, ClusterRuntime? cluster)
    {
        Fraction = Percentage.From(new FractionalPercent { Numerator = plan.Numerator, Denominator = plan.Denominator });
        Cluster = cluster;
        ClusterHeader = plan.ClusterHeader;
        TraceSampled = plan.TraceSampled;
        KeepHost = plan.DisableShadowHostSuffixAppend;
    }

    /// <summary>The fraction of requests shadowed (<c>runtime_fraction.default_value</c>).</summary>
    public Percentage Fraction { get; }

    /// <summary>The shadow cluster named by <c>cluster</c>; null with <c>cluster_header</c>.</summary>
    public ClusterRuntime? Cluster { get; }

    /// <summary>The request header naming the shadow cluster, or null.</summary>
    public string? ClusterHeader { get; }

    /// <summary><c>trace_sampled</c>: the shadow span's sampling; null keeps the request's.</summary>
    public bool? TraceSampled { get; }

    /// <summary><c>disable_shadow_host_suffix_append</c>.</summary>
    public bool KeepHost { get; }

    public static ShadowPolicy[] Compile(IReadOnlyList<MirrorPolicyPlan>? plans, ClusterRegistry clusters)
    {
        if (plans is null || plans.Count == 0)
        {
            return [];
        }
        var compiled = new ShadowPolicy[plans.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = new ShadowPolicy(plans[i], plans[i].Cluster is { } name ? clusters.GetOrCreate(name) : null);
        }
        return compiled;
    }
}

/// <summary>
/// Envoy's shadow writer: the router's copies of a request to the clusters of its mirror policies, sent through the
/// gateway's async cluster client (<see cref="ClusterClients"/>: host selection, circuit breakers, connections and
/// <c>upstream_rq_*</c> of the shadow cluster). Fire and forget: the shadow's answer is read and discarded, and
/// nothing of it (failure, slowness, overflow) reaches the client's request.
/// </summary>
internal sealed partial class ShadowWriter
{
    /// <summary>The authority of a shadow's URI; the cluster's client replaces it with the host it picks.</summary>
    private const string ShadowAuthority = "http://shadow";

    private readonly ClusterClients _clients;
    private readonly ClusterRegistry _clusters;
    private readonly Random _random;
    private readonly ILogger _logger;
    // One client per shadow cluster (bounded by the configured clusters).
    private readonly ConcurrentDictionary<ClusterRuntime, HttpMessageInvoker> _invokers = new();

    public ShadowWriter(ClusterClients clients, ClusterRegistry clusters, Random random, ILogger<ShadowWriter> logger)
    {
        _clients = clients;
        _clusters = clusters;
        _random = random;
        _logger = logger;
    }

    /// <summary>
    /// The router's decision for a routed request (Envoy's decodeHeaders): the policies whose fraction draws (one random
    /// value per request for all of them, as Envoy uses the stream id), each with its cluster; the request's headers as
    /// the router forwards them. A request without a body is shadowed at once; otherwise the body is captured as the
    /// upstream attempt reads it and the shadows leave when it ends (Envoy's onRequestComplete). Returns the capture,
    /// which the router ends when the request is done, or null.
    /// </summary>
    public ShadowCapture? Begin(HttpContext context, UpstreamRequest state, ShadowPolicy[] policies)
    {
        var request = context.Request;
        List<(ShadowPolicy Policy, ClusterRuntime Cluster)>? targets = null;
        ulong draw = 0;
        var drawn = false;
        foreach (var policy in policies)
        {
            if (policy.Fraction.IsNever)
            {
                continue;
            }
            if (!policy.Fraction.IsAlways)
            {
                if (!drawn)
                {
                    draw = (ulong)_random.NextInt64(long.MaxValue);
                    drawn = true;
                }
                if (!policy.Fraction.Evaluate(draw))
                {
                    continue;
                }
            }
            var cluster = policy.Cluster;
            if (cluster is null)
            {
                var named = request.Headers[policy.ClusterHeader!];
                if (named.Count == 0 || string.IsNullOrEmpty(named[0]))
                {
                    Log.NoClusterInHeader(_logger, policy.ClusterHeader!);
                    continue;
                }
                if (!_clusters.TryGet(named[0]!, out cluster) || cluster.Plan is null)
                {
                    Log.UnknownCluster(_logger, named[0]!);
                    continue;
                }
            }
            else if (cluster.Plan is null)
            {
                continue;
            }
            (targets ??= []).Add((policy, cluster));
        }
        if (targets is null)
        {
            return null;
        }

        var shadow = new ShadowHeaders(request.Method, RouterHeaders.RoutedPathAndQuery(state), Snapshot(request, state), request.Headers.Host.ToString(), state, targets);
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            Send(shadow, null, 0);
            return null;
        }
        var capture = new ShadowCapture(request.Body, this, shadow, state.Route.Cluster!.Stats.RetryOrShadowAbandoned);
        request.Body = capture;
        return capture;
    }

    /// <summary>The request's headers as the router forwards them, with the router's own (Envoy copies them after finalizeRequestHeaders).</summary>
    private static List<KeyValuePair<string, StringValues>> Snapshot(HttpRequest request, UpstreamRequest state)
    {
        var headers = new List<KeyValuePair<string, StringValues>>(request.Headers.Count + 3);
        foreach (var header in request.Headers)
        {
            if (!IsForwarded(header.Key))
            {
                continue;
            }
            headers.Add(header);
        }
        var plan = state.Route.Plan;
        var suppress = state.Listener.ConnectionManager.SuppressEnvoyHeaders;
        if (plan.IncludeRequestAttemptCount)
        {
            RemoveHeader(headers, EnvoyHeaders.AttemptCount);
            headers.Add(new(EnvoyHeaders.AttemptCount, "1"));
        }
        if (!suppress && state.Timeouts.ExpectedHeader is { } expected)
        {
            headers.Add(new(EnvoyHeaders.ExpectedRequestTimeoutMs, expected));
        }
        if (!suppress && plan.PrefixRewrite is not null && !ReferenceEquals(RouterHeaders.RoutedPathAndQuery(state), state.PathAndQuery))
        {
            headers.Add(new(EnvoyHeaders.OriginalPath, state.PathAndQuery));
        }
        return headers;
    }

    private static void RemoveHeader(List<KeyValuePair<string, StringValues>> headers, string name)
    {
        for (var i = headers.Count - 1; i >= 0; i--)
        {
            if (string.Equals(headers[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                headers.RemoveAt(i);
            }
        }
    }

    /// <summary>Connection-level headers (and Host, set on its own) are not the request's to copy.</summary>
    private static bool IsForwarded(string name)
        => name.Length != 0 && name[0] != ':'
            && !name.Equals("host", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("connection", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("proxy-connection", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("upgrade", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("te", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("expect", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("content-length", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Envoy's shadow host: <c>-shadow</c> appended to the host, before the port (HeaderUtility::getPortStart: the last
    /// ':' not inside an IPv6 literal's brackets).
    /// </summary>
    internal static string ShadowHost(string host)
    {
        if (host.Length == 0)
        {
            return host;
        }
        var colon = host.LastIndexOf(':');
        var bracket = host.LastIndexOf(']');
        if (colon < 0 || (bracket >= 0 && bracket > colon))
        {
            return string.Concat(host, "-shadow");
        }
        return string.Concat(host.AsSpan(0, colon), "-shadow", host.AsSpan(colon));
    }

    /// <summary>Sends one copy per target; <paramref name="body"/> (pooled, or null) is returned to the pool when the last is done.</summary>
    internal void Send(ShadowHeaders shadow, byte[]? body, int length)
    {
        var owner = body is null ? null : new PooledBody(body, shadow.Targets.Count);
        foreach (var (policy, cluster) in shadow.Targets)
        {
            HttpRequestMessage message;
            try
            {
                message = Build(shadow, policy, body, length);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or UriFormatException)
            {
                // A header the client sent that .NET's client refuses to carry: no shadow rather than a broken request.
                Log.Failed(_logger, cluster.Name, ex);
                owner?.Release();
                continue;
            }
            ISpan? span = null;
            if (shadow.Tracing is { } tracing)
            {
                // Envoy's async client: a child span "mirror" of the request's span, sampled as the policy says.
                span = shadow.ParentSpan.SpawnChild("mirror", tracing.Time.GetUtcNow());
                if (policy.TraceSampled is { } sampled)
                {
                    span.SetSampled(sampled);
                }
                if (!tracing.Plan.NoContextPropagation)
                {
                    span.InjectContext(message.Headers);
                }
            }
            _ = SendAsync(Invoker(cluster), cluster, message, span, shadow.Tracing, owner);
        }
    }

    private static HttpRequestMessage Build(ShadowHeaders shadow, ShadowPolicy policy, byte[]? body, int length)
    {
        var message = new HttpRequestMessage(HttpMethod.Parse(shadow.Method), new Uri(ShadowAuthority + shadow.PathAndQuery, UriKind.Absolute));
        HttpContent? content = body is null ? null : new ByteArrayContent(body, 0, length);
        foreach (var (name, values) in shadow.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                // A content header: it goes with the body (a request without one gets an empty body to carry it).
                content ??= new ByteArrayContent([]);
                content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        message.Content = content;
        var host = shadow.Host;
        if (host.Length != 0)
        {
            message.Headers.Host = policy.KeepHost ? host : ShadowHost(host);
        }
        if (shadow.Timeout > TimeSpan.Zero)
        {
            // Envoy's shadow runs under the route's timeout (RequestOptions::setTimeout(global_timeout)).
            message.Options.Set(ClusterClients.Timeout, shadow.Timeout);
        }
        return message;
    }

    private HttpMessageInvoker Invoker(ClusterRuntime cluster)
        => _invokers.GetOrAdd(cluster, static (c, clients) => clients.For(c.Name), _clients);

    private async Task SendAsync(HttpMessageInvoker invoker, ClusterRuntime cluster, HttpRequestMessage message, ISpan? span, ConnectionManagerTracing? tracing, PooledBody? body)
    {
        var status = 0;
        try
        {
            // Off the request's thread from the start: not even the host pick and connection set-up run on it.
            await Task.Yield();
            using var response = await invoker.SendAsync(message, CancellationToken.None).ConfigureAwait(false);
            status = (int)response.StatusCode;
            // Envoy discards the shadow's body (setDiscardResponseBody); reading it ends the exchange with the stream.
            await response.Content.CopyToAsync(Stream.Null).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.Failed(_logger, cluster.Name, ex);
        }
        finally
        {
            message.Dispose();
            body?.Release();
            if (span is not null && tracing is not null)
            {
                span.SetTag(TracingTags.Component, TracingTags.Proxy);
                span.SetTag(TracingTags.UpstreamCluster, cluster.Name);
                span.SetTag(TracingTags.UpstreamClusterName, cluster.Name);
                span.SetTag(TracingTags.HttpStatusCode, status.ToString(CultureInfo.InvariantCulture));
                if (status is 0 or >= 500)
                {
                    span.SetTag(TracingTags.Error, TracingTags.True);
                }
                span.Finish(tracing.Time.GetUtcNow());
            }
        }
    }

    /// <summary>A captured body shared by the copies of one request; the last to finish returns it to the pool.</summary>
    private sealed class PooledBody(byte[] buffer, int users)
    {
        private int _users = users;

        public void Release()
        {
            if (Interlocked.Decrement(ref _users) == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.RouterShadowFailed, Level = LogLevel.Debug, Message = "shadow request to cluster '{Cluster}' failed")]
        public static partial void Failed(ILogger logger, string cluster, Exception exception);

        [LoggerMessage(EventId = LogEvents.RouterShadowUnknownCluster, Level = LogLevel.Debug, Message = "shadow cluster '{Cluster}' does not exist")]
        public static partial void UnknownCluster(ILogger logger, string cluster);

        [LoggerMessage(EventId = LogEvents.RouterShadowNoClusterHeader, Level = LogLevel.Debug, Message = "There is no cluster name in header: {Header}")]
        public static partial void NoClusterInHeader(ILogger logger, string header);
    }
}

/// <summary>What the shadows of one request carry, taken when the router decided to shadow it.</summary>
internal sealed class ShadowHeaders(string method, string pathAndQuery, List<KeyValuePair<string, StringValues>> headers, string host, UpstreamRequest state, List<(ShadowPolicy Policy, ClusterRuntime Cluster)> targets)
{
    public string Method { get; } = method;

    public string PathAndQuery { get; } = pathAndQuery;

    public List<KeyValuePair<string, StringValues>> Headers { get; } = headers;

    /// <summary>The Host as forwarded (after <c>host_rewrite_literal</c>), before the <c>-shadow</c> suffix.</summary>
    public string Host { get; } = state.Route.Plan.HostRewrite == HostRewriteMode.Literal ? state.Route.Plan.HostRewriteLiteral! : host;

    /// <summary>The route timeout in force (zero: none).</summary>
    public TimeSpan Timeout { get; } = state.Timeout;

    public ISpan ParentSpan { get; } = state.DownstreamSpan;

    public ConnectionManagerTracing? Tracing { get; } = state.Listener.Tracing;

    public List<(ShadowPolicy Policy, ClusterRuntime Cluster)> Targets { get; } = targets;
}

/// <summary>
/// The request body as the upstream attempt reads it, copied for the shadows up to the router's buffer limit (Envoy's
/// retry/shadow buffer: beyond it the shadows are given up, <c>retry_or_shadow_abandoned</c>). Its end sends them.
/// </summary>
internal sealed class ShadowCapture : Stream
{
    private readonly Stream _inner;
    private readonly ShadowWriter _writer;
    private readonly ShadowHeaders _shadow;
    private readonly Stats.Counter _abandoned;
    private readonly Lock _lock = new();
    private byte[]? _buffer;
    private int _length;
    private bool _done;

    public ShadowCapture(Stream inner, ShadowWriter writer, ShadowHeaders shadow, Stats.Counter abandoned)
    {
        _inner = inner;
        _writer = writer;
        _shadow = shadow;
        _abandoned = abandoned;
    }

    /// <summary>The request is over: a body never read to its end is not shadowed (Envoy shadows only a complete request).</summary>
    public void End()
    {
        lock (_lock)
        {
            if (_done)
            {
                return;
            }
            _done = true;
            ReturnBuffer();
        }
    }

    private void Captured(ReadOnlySpan<byte> data, bool asked)
    {
        lock (_lock)
        {
            if (_done)
            {
                return;
            }
            if (data.Length == 0)
            {
                if (asked)
                {
                    // The end of the body: the request is complete, the shadows leave now.
                    _done = true;
                    var body = _buffer;
                    _buffer = null;
                    _writer.Send(_shadow, body ?? ArrayPool<byte>.Shared.Rent(0), _length);
                }
                return;
            }
            if ((long)_length + data.Length > RouterFilter.RetryBufferLimit)
            {
                _done = true;
                ReturnBuffer();
                _abandoned.Increment();
                return;
            }
            if (_buffer is null || _buffer.Length - _length < data.Length)
            {
                var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_length + data.Length, Math.Min(RouterFilter.RetryBufferLimit, Math.Max(4096, (_buffer?.Length ?? 0) * 2))));
                if (_buffer is not null)
                {
                    _buffer.AsSpan(0, _length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(_buffer);
                }
                _buffer = grown;
            }
            data.CopyTo(_buffer.AsSpan(_length));
            _length += data.Length;
        }
    }

    private void ReturnBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        Captured(buffer[..read], buffer.Length > 0);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Captured(buffer.Span[..read], buffer.Length > 0);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
