using Gateway.Filters.Common;
using Gateway.Grpc;
using Gateway.IO;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.GrpcStats;

/// <summary>
/// <c>envoy.filters.http.grpc_stats</c>: per-cluster telemetry of gRPC calls, as Envoy's grpc_stats_filter.cc charges it
/// through Grpc::Context: <c>cluster.&lt;name&gt;.grpc.[&lt;service&gt;.&lt;method&gt;.]</c> <c>success</c>, <c>failure</c>,
/// <c>total</c>, one counter per <c>grpc-status</c>, <c>request_message_count</c> and <c>response_message_count</c>
/// (messages counted as the bodies stream) and, with <c>enable_upstream_stats</c>, <c>upstream_rq_time</c>.
/// </summary>
public sealed class GrpcStatsFilterFactory : HttpFilterFactory<GrpcStatsConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.grpc_stats";

    /// <inheritdoc />
    protected override void Validate(GrpcStatsConfig config, HttpFilterValidationContext context)
    {
        if (config.EmitFilterState)
        {
            context.FieldError(config, "emit_filter_state", "emit_filter_state is not supported by this gateway: the gateway has no filter state (the message counts are in the stats)");
        }
        if (config.HasField("individual_method_stats_allowlist") && config.HasField("stats_for_all_methods"))
        {
            context.FieldError(config, "stats_for_all_methods", "only one of individual_method_stats_allowlist and stats_for_all_methods may be set (oneof per_method_stat_specifier)");
        }
        if (config.IndividualMethodStatsAllowlist is { } allowlist)
        {
            foreach (var service in allowlist.Services)
            {
                if (string.IsNullOrEmpty(service.Name))
                {
                    context.FieldError(service, "name", "name: value length must be at least 1 characters");
                }
                if (service.MethodNames.Count == 0)
                {
                    context.FieldError(service, "method_names", "method_names: value must contain at least 1 item(s)");
                }
            }
        }
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(GrpcStatsConfig config, HttpFilterFactoryContext context) => new GrpcStatsFilter(config);
}

/// <summary>The grpc_stats filter of one listener: its method allowlist compiled once.</summary>
internal sealed class GrpcStatsFilter : IHttpFilter
{
    private readonly bool _statsForAllMethods;
    private readonly bool _replaceDots;
    private readonly bool _upstreamStats;
    private readonly MethodAllowlist? _allowlist;

    public GrpcStatsFilter(GrpcStatsConfig config)
    {
        _statsForAllMethods = config.StatsForAllMethods ?? false;
        _replaceDots = config.ReplaceDotsInGrpcServiceName;
        _upstreamStats = config.EnableUpstreamStats;
        _allowlist = config.IndividualMethodStatsAllowlist is { } list ? new MethodAllowlist(list) : null;
    }

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.ResponseHeaders | HttpFilterHooks.Complete;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        if (!GrpcProtocol.IsGrpc(http.Request.Headers) || GrpcRouteStats.For(context) is not { } cluster)
        {
            return new(FilterStatus.Continue);
        }
        var path = GrpcRouteStats.PathOf(context);
        if (!GrpcProtocol.TryResolveServiceAndMethod(path, out var service, out var method))
        {
            // Not a service/method path: no stats at all (Envoy's do_stat_tracking_ stays false).
            return new(FilterStatus.Continue);
        }
        GrpcCallStats stats;
        if (_statsForAllMethods)
        {
            var serviceName = path[service];
            stats = cluster.Method(GrpcStatsProtocol.Grpc, _replaceDots ? serviceName.Replace('.', '_') : serviceName, path[method]);
        }
        else
        {
            // Calls outside the allowlist (or with no allowlist) are counted without the service/method segment.
            stats = _allowlist?.Find(path.AsSpan()[service], path.AsSpan()[method], cluster) ?? cluster.Unnamed(GrpcStatsProtocol.Grpc);
        }
        var stream = new GrpcStatsStream(stats);
        http.Features.Set(stream);
        // On HTTP/1.1 the server has no trailers: keep them readable (they could not have reached the client anyway).
        CapturedTrailers.CaptureIfUnsupported(http);
        if (!StreamEnds.RequestHasNoBody(http))
        {
            http.Request.Body = new CountingRequestBody(http.Request.Body, stats);
        }
        return new(FilterStatus.Continue);
    }

    public ValueTask<FilterStatus> OnResponseHeadersAsync(HttpFilterContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<GrpcStatsStream>() is not { } stream)
        {
            return new(FilterStatus.Continue);
        }
        var response = http.Response;
        var endStream = StreamEnds.ResponseHasNoBody(http);
        if (response.Headers.TryGetValue(GrpcProtocol.StatusHeader, out var status))
        {
            // A trailers-only response (an upstream's error, a local reply): its status is here.
            stream.Stats.ChargeStatus(status.ToString());
            stream.StatusInHeaders = true;
        }
        if (!endStream && GrpcProtocol.IsGrpcResponse(response, endStream))
        {
            ResponseBodyLayer.Install(http, new CountingResponseBody(http, stream.Stats));
        }
        return new(FilterStatus.Continue);
    }

    public void OnComplete(HttpFilterContext context)
    {
        var http = context.HttpContext;
        ResponseBodyLayer.FinishAll(http);
        if (http.Features.Get<GrpcStatsStream>() is not { } stream)
        {
            return;
        }
        var trailers = CapturedTrailers.Of(http);
        var hasTrailers = trailers is { Count: > 0 };
        if (hasTrailers && trailers!.TryGetValue(GrpcProtocol.StatusHeader, out var status))
        {
            stream.Stats.ChargeStatus(status.ToString());
        }
        if (_upstreamStats && (hasTrailers || stream.StatusInHeaders) && context.StreamInfo is RequestStreamInfo info
            && info.FirstUpstreamTxByteSent is { } sent && info.LastUpstreamRxByteReceived is { } received)
        {
            // Envoy's maybeChargeUpstreamStat: last upstream byte received minus request sent (here its first byte).
            stream.Stats.RecordUpstreamTime((long)(received - sent).TotalMilliseconds);
        }
    }
}

/// <summary>One tracked call: where it is charged.</summary>
internal sealed class GrpcStatsStream(GrpcCallStats stats)
{
    public GrpcCallStats Stats { get; } = stats;

    /// <summary>The response carried <c>grpc-status</c> in its headers (trailers-only).</summary>
    public bool StatusInHeaders { get; set; }
}

/// <summary>
/// The allowlist (<c>individual_method_stats_allowlist</c>), looked up by the request's service and method spans without
/// allocating. Each method remembers the handles of the cluster it was last charged to, so the common case (one cluster per
/// method) resolves no name per request.
/// </summary>
internal sealed class MethodAllowlist
{
    private readonly Dictionary<string, Dictionary<string, AllowedMethod>>.AlternateLookup<ReadOnlySpan<char>> _services;

    public MethodAllowlist(GrpcMethodList list)
    {
        var services = new Dictionary<string, Dictionary<string, AllowedMethod>>(StringComparer.Ordinal);
        foreach (var service in list.Services)
        {
            if (!services.TryGetValue(service.Name, out var methods))
            {
                methods = new Dictionary<string, AllowedMethod>(StringComparer.Ordinal);
                services[service.Name] = methods;
            }
            foreach (var method in service.MethodNames)
            {
                methods[method] = new AllowedMethod(service.Name, method);
            }
        }
        _services = services.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public GrpcCallStats? Find(ReadOnlySpan<char> service, ReadOnlySpan<char> method, GrpcClusterStats cluster)
        => _services.TryGetValue(service, out var methods) && methods.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(method, out var allowed)
            ? allowed.For(cluster)
            : null;

    private sealed class AllowedMethod(string service, string method)
    {
        // One reference, swapped whole: readers never see a cluster with another cluster's handles.
        private volatile LastCharged? _last;

        public GrpcCallStats For(GrpcClusterStats cluster)
        {
            if (_last is { } last && ReferenceEquals(last.Cluster, cluster))
            {
                return last.Stats;
            }
            var stats = cluster.Method(GrpcStatsProtocol.Grpc, service, method);
            _last = new LastCharged(cluster, stats);
            return stats;
        }
    }

    private sealed record LastCharged(GrpcClusterStats Cluster, GrpcCallStats Stats);
}

/// <summary>The request body as the upstream reads it, its gRPC messages counted (Envoy's decodeData inspection).</summary>
internal sealed class CountingRequestBody(Stream inner, GrpcCallStats stats) : ReadOnlyForwardStream
{
    private readonly GrpcFrameInspector _inspector = new();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Count(buffer.AsSpan(offset, read));
        return read;
    }

    private void Count(ReadOnlySpan<byte> data)
    {
        if (_inspector.Inspect(data) is var delta and > 0)
        {
            stats.ChargeRequestMessages(delta);
        }
    }
}

/// <summary>The response body passing through unchanged, its gRPC messages counted (Envoy's encodeData inspection).</summary>
internal sealed class CountingResponseBody(HttpContext context, GrpcCallStats stats) : ResponseBodyLayer(context)
{
    private readonly GrpcFrameInspector _inspector = new();

    protected override bool ChangesLength => false;

    protected override ValueTask TransformAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Count(data.Span);
        return WriteNextAsync(data, cancellationToken);
    }

    protected override void TransformSync(ReadOnlySpan<byte> data)
    {
        Count(data);
        WriteNextSync(data);
    }

    private void Count(ReadOnlySpan<byte> data)
    {
        if (_inspector.Inspect(data) is var delta and > 0)
        {
            stats.ChargeResponseMessages(delta);
        }
    }
}
