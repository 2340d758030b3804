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
            compiled[i] = new ShadowPolicy(plans[i], plans[i].Cluster is { } name ? clusters.Find(name) : null);
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
    /// upstream attempt reads it, passed to the shadows as it comes (Envoy's streaming shadows). Returns that tee, which
    /// the router ends when the request is done, or null.
    /// </summary>
    public ShadowTee? Begin(HttpContext context, UpstreamRequest state, ShadowPolicy[] policies)
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

        var shadow = new ShadowHeaders(request.Method, RouterHeaders.RoutedPathAndQuery(state), Snapshot(request, state), RouterHeaders.RewrittenHost(state, request.Headers) ?? request.Headers.Host.ToString(), state, targets);
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            Send(shadow, null);
            return null;
        }
        // Envoy's streaming shadows (the default since 1.33): each shadow starts now and gets the body as it arrives.
        var bodies = new ShadowBody[targets.Count];
        for (var i = 0; i < bodies.Length; i++)
        {
            bodies[i] = new ShadowBody(request.ContentLength);
        }
        Send(shadow, bodies);
        var tee = new ShadowTee(request.Body, bodies, state.Cluster.Stats.RetryOrShadowAbandoned, state.Listener.ConnectionManager.BufferLimit);
        request.Body = tee;
        return tee;
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
        if (!suppress && (plan.PrefixRewrite is not null || plan.RegexRewrite is not null || plan.PathTemplateRewrite is not null) && !ReferenceEquals(RouterHeaders.RoutedPathAndQuery(state), state.PathAndQuery))
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

    /// <summary>Sends one copy per target, each with its body stream (<paramref name="bodies"/>, same order) or none.</summary>
    private void Send(ShadowHeaders shadow, ShadowBody[]? bodies)
    {
        for (var i = 0; i < shadow.Targets.Count; i++)
        {
            var (policy, cluster) = shadow.Targets[i];
            var body = bodies?[i];
            HttpRequestMessage message;
            try
            {
                message = Build(shadow, policy, body);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or UriFormatException)
            {
                // A header the client sent that .NET's client refuses to carry: no shadow rather than a broken request.
                Log.Failed(_logger, cluster.Name, ex);
                body?.Close();
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
            _ = SendAsync(Invoker(cluster), cluster, message, span, shadow.Tracing, body);
        }
    }

    private static HttpRequestMessage Build(ShadowHeaders shadow, ShadowPolicy policy, ShadowBody? body)
    {
        var message = new HttpRequestMessage(HttpMethod.Parse(shadow.Method), new Uri(ShadowAuthority + shadow.PathAndQuery, UriKind.Absolute));
        HttpContent? content = body;
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

    private async Task SendAsync(HttpMessageInvoker invoker, ClusterRuntime cluster, HttpRequestMessage message, ISpan? span, ConnectionManagerTracing? tracing, ShadowBody? body)
    {
        var status = 0;
        try
        {
            // Off the request's thread from the start: not even the host pick and connection set-up run on it.
            await Task.Yield();
            // Cancelled when its body is given up (the request broke off, or the shadow fell a buffer behind): Envoy's cancel.
            using var response = await invoker.SendAsync(message, body?.Cancelled ?? CancellationToken.None).ConfigureAwait(false);
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
            // No more of the body is wanted (the shadow ended, or was answered before reading it all).
            body?.Close();
            message.Dispose();
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

    /// <summary>The Host as forwarded (after <c>host_rewrite_literal</c> / <c>_header</c> / <c>_path_regex</c>), before the <c>-shadow</c> suffix.</summary>
    public string Host { get; } = host;

    /// <summary>The route timeout in force (zero: none).</summary>
    public TimeSpan Timeout { get; } = state.Timeout;

    public ISpan ParentSpan { get; } = state.DownstreamSpan;

    public ConnectionManagerTracing? Tracing { get; } = state.Listener.Tracing;

    public List<(ShadowPolicy Policy, ClusterRuntime Cluster)> Targets { get; } = targets;
}

/// <summary>
/// The request body as the upstream attempt reads it, each chunk copied to every shadow still taking it; its end ends
/// theirs. A shadow more than the router's buffer limit behind (Envoy's retry/shadow buffer limit) is cancelled and
/// counted in <c>retry_or_shadow_abandoned</c>: Envoy would slow the client down instead, which a shadow must not do here.
/// </summary>
internal sealed class ShadowTee : Stream
{
    private readonly Stream _inner;
    private readonly ShadowBody[] _bodies;
    private readonly Stats.Counter _abandoned;
    private readonly int _limit;
    private int _ended;

    public ShadowTee(Stream inner, ShadowBody[] bodies, Stats.Counter abandoned, int limit)
    {
        _inner = inner;
        _bodies = bodies;
        _abandoned = abandoned;
        _limit = limit;
    }

    /// <summary>The request is over: a shadow whose body did not arrive in full is cancelled (Envoy cancels its shadow streams).</summary>
    public void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }
        foreach (var body in _bodies)
        {
            body.Cancel();
        }
    }

    private void Forward(ReadOnlySpan<byte> data, bool asked)
    {
        if (Volatile.Read(ref _ended) != 0 || (data.Length == 0 && !asked))
        {
            return;
        }
        if (data.Length == 0)
        {
            // The end of the body: every shadow still taking it gets its end too.
            Interlocked.Exchange(ref _ended, 1);
            foreach (var body in _bodies)
            {
                body.Complete();
            }
            return;
        }
        foreach (var body in _bodies)
        {
            if (!body.TryAppend(data, _limit))
            {
                if (body.Cancel())
                {
                    _abandoned.Increment();
                }
            }
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
        Forward(buffer[..read], buffer.Length > 0);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Forward(buffer.Span[..read], buffer.Length > 0);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// One shadow's request body: the chunks the tee hands over (pooled copies), written to the shadow's connection as it
/// takes them. What is queued and not yet written is bounded by the caller; the request's Content-Length, if any, is
/// the shadow's. Closing it (the shadow ended) drops what is queued and refuses more.
/// </summary>
internal sealed class ShadowBody : HttpContent
{
    private readonly System.Threading.Channels.Channel<(byte[] Buffer, int Length)> _chunks =
        System.Threading.Channels.Channel.CreateUnbounded<(byte[] Buffer, int Length)>(new() { SingleReader = true, SingleWriter = true });
    private readonly long? _length;
    private readonly CancellationTokenSource _cancel = new();
    private long _queued;
    // Open (taking chunks) → Complete (the body ended) or Closed (given up, or the shadow is over).
    private int _state;
    private const int Open = 0;
    private const int Completed = 1;
    private const int Closed = 2;

    public ShadowBody(long? length) => _length = length;

    /// <summary>Fires when the shadow is given up.</summary>
    public CancellationToken Cancelled => _cancel.Token;

    /// <summary>Queues a copy of <paramref name="data"/>; false when that would leave more than <paramref name="limit"/> bytes unwritten.</summary>
    public bool TryAppend(ReadOnlySpan<byte> data, int limit)
    {
        if (Volatile.Read(ref _state) != Open)
        {
            return true;
        }
        if (Interlocked.Add(ref _queued, data.Length) > limit)
        {
            return false;
        }
        var copy = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        if (!_chunks.Writer.TryWrite((copy, data.Length)))
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
        return true;
    }

    /// <summary>The body is complete: from now on the shadow runs to its end, whatever the request does.</summary>
    public void Complete()
    {
        if (Interlocked.CompareExchange(ref _state, Completed, Open) == Open)
        {
            _chunks.Writer.TryComplete();
        }
    }

    /// <summary>Gives up a shadow whose body is not complete (its request is cancelled); true when this call did it.</summary>
    public bool Cancel()
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Open) != Open)
        {
            return false;
        }
        _chunks.Writer.TryComplete();
        _cancel.Cancel();
        return true;
    }

    /// <summary>The shadow is over: nothing more is taken, and what is queued goes back to the pool.</summary>
    public void Close()
    {
        Interlocked.Exchange(ref _state, Closed);
        _chunks.Writer.TryComplete();
        while (_chunks.Reader.TryRead(out var chunk))
        {
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }
    }

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        var reader = _chunks.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var chunk))
            {
                try
                {
                    await stream.WriteAsync(chunk.Buffer.AsMemory(0, chunk.Length), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Add(ref _queued, -chunk.Length);
                    ArrayPool<byte>.Shared.Return(chunk.Buffer);
                }
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _state) != Completed)
        {
            // Given up: the shadow must not look complete to its upstream.
            throw new OperationCanceledException(_cancel.Token);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _length ?? 0;
        return _length is not null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The token source is not disposed: the request's thread may still cancel it (it holds no timer).
            Close();
        }
        base.Dispose(disposing);
    }
}
