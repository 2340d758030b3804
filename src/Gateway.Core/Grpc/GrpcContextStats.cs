using System.Collections.Concurrent;
using Gateway.Stats;

namespace Gateway.Grpc;

/// <summary>The protocol segment of Envoy's per-cluster gRPC stats (Grpc::Context::Protocol).</summary>
internal enum GrpcStatsProtocol
{
    /// <summary><c>cluster.&lt;name&gt;.grpc.*</c> (grpc_stats).</summary>
    Grpc,

    /// <summary><c>cluster.&lt;name&gt;.grpc-web.*</c> (grpc_web).</summary>
    GrpcWeb,
}

/// <summary>
/// Envoy's Grpc::Context charges for one cluster: the stats under <c>cluster.&lt;name&gt;.grpc.</c> (and <c>grpc-web.</c>),
/// without a method (<c>cluster.&lt;name&gt;.grpc.success</c>) or per service and method
/// (<c>cluster.&lt;name&gt;.grpc.&lt;service&gt;.&lt;method&gt;.success</c>). Made once per cluster, on first use
/// (<see cref="ClusterStats.Grpc"/>); the method stats are kept in a bounded cache, since their names come from requests.
/// </summary>
internal sealed class GrpcClusterStats
{
    /// <summary>
    /// How many service/method stat sets a cluster keeps handles for; past it a set is resolved from the store each time
    /// (correct, slower). The store itself holds every name, as Envoy's does (stats_for_all_methods is for trusted clients).
    /// </summary>
    public const int CacheLimit = 1024;

    private readonly StatsStore _store;
    private readonly string _prefix;
    private readonly GrpcCallStats _grpc;
    private readonly GrpcCallStats _grpcWeb;
    private readonly ConcurrentDictionary<(GrpcStatsProtocol, string, string), GrpcCallStats> _methods = new();

    public GrpcClusterStats(StatsStore store, string clusterPrefix)
    {
        _store = store;
        _prefix = clusterPrefix;
        _grpc = new GrpcCallStats(store, clusterPrefix + "grpc.");
        _grpcWeb = new GrpcCallStats(store, clusterPrefix + "grpc-web.");
    }

    /// <summary>The stats without a service and method (Envoy's empty RequestStatNames).</summary>
    public GrpcCallStats Unnamed(GrpcStatsProtocol protocol) => protocol == GrpcStatsProtocol.Grpc ? _grpc : _grpcWeb;

    /// <summary>The stats of one service and method (already with dots replaced when the filter asks for it).</summary>
    public GrpcCallStats Method(GrpcStatsProtocol protocol, string service, string method)
    {
        var key = (protocol, service, method);
        if (_methods.TryGetValue(key, out var stats))
        {
            return stats;
        }
        stats = new GrpcCallStats(_store, string.Concat(_prefix, protocol == GrpcStatsProtocol.Grpc ? "grpc." : "grpc-web.", service, ".", method, "."));
        return _methods.Count < CacheLimit ? _methods.GetOrAdd(key, stats) : stats;
    }
}

/// <summary>
/// One prefix's gRPC stats (<c>…grpc.[&lt;service&gt;.&lt;method&gt;.]</c>): success, failure, total, the message counts,
/// <c>upstream_rq_time</c> and one counter per <c>grpc-status</c> value (the well-known 0–16 kept as handles).
/// </summary>
internal sealed class GrpcCallStats
{
    private const int WellKnownStatuses = 17;

    private readonly StatsStore _store;
    private readonly string _prefix;
    private readonly Counter?[] _statuses = new Counter?[WellKnownStatuses];
    private Counter? _success;
    private Counter? _failure;
    private Counter? _total;
    private Counter? _requestMessages;
    private Counter? _responseMessages;
    private Histogram? _upstreamRqTime;

    public GrpcCallStats(StatsStore store, string prefix)
    {
        _store = store;
        _prefix = prefix;
    }

    public string Prefix => _prefix;

    /// <summary>
    /// Envoy's Context::chargeStat with a <c>grpc-status</c> value: the counter named by the value, then
    /// success (value "0") or failure, and total.
    /// </summary>
    public void ChargeStatus(string grpcStatus)
    {
        StatusCounter(grpcStatus).Increment();
        ChargeOutcome(grpcStatus == "0");
    }

    /// <summary>Envoy's Context::chargeStat with a success flag: success or failure, and total.</summary>
    public void ChargeOutcome(bool success)
    {
        (success ? _success ??= _store.Counter(_prefix + "success") : _failure ??= _store.Counter(_prefix + "failure")).Increment();
        (_total ??= _store.Counter(_prefix + "total")).Increment();
    }

    /// <summary>Envoy's chargeRequestMessageStat.</summary>
    public void ChargeRequestMessages(long count) => (_requestMessages ??= _store.Counter(_prefix + "request_message_count")).Add(count);

    /// <summary>Envoy's chargeResponseMessageStat.</summary>
    public void ChargeResponseMessages(long count) => (_responseMessages ??= _store.Counter(_prefix + "response_message_count")).Add(count);

    /// <summary>Envoy's chargeUpstreamStat: <c>upstream_rq_time</c> in milliseconds.</summary>
    public void RecordUpstreamTime(double milliseconds) => (_upstreamRqTime ??= _store.Histogram(_prefix + "upstream_rq_time")).Record(milliseconds);

    private Counter StatusCounter(string grpcStatus)
    {
        // Envoy keeps the well-known codes as stat names; any other value is a dynamic name.
        if (grpcStatus.Length is 1 or 2 && int.TryParse(grpcStatus, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code)
            && code < WellKnownStatuses && (grpcStatus.Length == 1 || grpcStatus[0] != '0'))
        {
            return _statuses[code] ??= _store.Counter(_prefix + grpcStatus);
        }
        return _store.Counter(_prefix + grpcStatus);
    }
}
