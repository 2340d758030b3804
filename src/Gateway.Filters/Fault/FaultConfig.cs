using Gateway.Configuration.Types;
using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.Fault;

/// <summary><c>envoy.extensions.filters.http.fault.v3.HTTPFault</c>: the filter's configuration, and its per-route configuration.</summary>
[EnvoyType("envoy.extensions.filters.http.fault.v3.HTTPFault", NotSupported = ["response_rate_limit", "response_rate_limit_percent_runtime", "abort_grpc_status_runtime"])]
public sealed class HttpFaultConfig : EnvoyMessage
{
    /// <summary>The delay to inject.</summary>
    [ProtoField(1)]
    public FaultDelay? Delay { get; set; }

    /// <summary>The abort to inject.</summary>
    [ProtoField(2)]
    public FaultAbort? Abort { get; set; }

    /// <summary>Only requests routed to this cluster get faults.</summary>
    [ProtoField(3)]
    public string? UpstreamCluster { get; set; }

    /// <summary>Only requests whose headers all match get faults.</summary>
    [ProtoField(4)]
    public List<HeaderMatcher> Headers { get; set; } = [];

    /// <summary>Only requests whose <c>x-envoy-downstream-service-node</c> is one of these get faults.</summary>
    [ProtoField(5)]
    public List<string> DownstreamNodes { get; set; } = [];

    /// <summary>At most this many requests with an active fault at once; default unlimited.</summary>
    [ProtoField(6)]
    public uint? MaxActiveFaults { get; set; }

    /// <summary>Runtime key (accepted; no runtime layer).</summary>
    [ProtoField(8)]
    public string? DelayPercentRuntime { get; set; }

    /// <summary>Runtime key (accepted; no runtime layer).</summary>
    [ProtoField(9)]
    public string? AbortPercentRuntime { get; set; }

    /// <summary>Runtime key (accepted; no runtime layer).</summary>
    [ProtoField(10)]
    public string? DelayDurationRuntime { get; set; }

    /// <summary>Runtime key (accepted; no runtime layer).</summary>
    [ProtoField(11)]
    public string? AbortHttpStatusRuntime { get; set; }

    /// <summary>Runtime key (accepted; no runtime layer).</summary>
    [ProtoField(12)]
    public string? MaxActiveFaultsRuntime { get; set; }

    /// <summary>When true, no <c>fault.&lt;downstream cluster&gt;.*</c> stats from <c>x-envoy-downstream-service-cluster</c>.</summary>
    [ProtoField(15)]
    public bool DisableDownstreamClusterStats { get; set; }
}

/// <summary><c>envoy.extensions.filters.common.fault.v3.FaultDelay</c>.</summary>
[EnvoyType("envoy.extensions.filters.common.fault.v3.FaultDelay")]
public sealed class FaultDelay : EnvoyMessage
{
    /// <summary>A fixed delay (greater than 0).</summary>
    [ProtoField(3, InOneOf = true)]
    public TimeSpan? FixedDelay { get; set; }

    /// <summary>The delay comes from the request's <c>x-envoy-fault-delay-request</c> header (milliseconds).</summary>
    [ProtoField(5, InOneOf = true)]
    public HeaderDelay? HeaderDelay { get; set; }

    /// <summary>The share of requests delayed; unset is 0%.</summary>
    [ProtoField(4)]
    public FractionalPercent? Percentage { get; set; }
}

/// <summary><c>FaultDelay.HeaderDelay</c>.</summary>
[EnvoyType("envoy.extensions.filters.common.fault.v3.FaultDelay.HeaderDelay")]
public sealed class HeaderDelay : EnvoyMessage;

/// <summary><c>envoy.extensions.filters.http.fault.v3.FaultAbort</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.fault.v3.FaultAbort")]
public sealed class FaultAbort : EnvoyMessage
{
    /// <summary>The status of the abort reply, in [200, 600).</summary>
    [ProtoField(2, InOneOf = true)]
    public uint? HttpStatus { get; set; }

    /// <summary>The gRPC status of the abort reply (the HTTP status is then 200; a gRPC request gets it as <c>grpc-status</c>).</summary>
    [ProtoField(5, InOneOf = true)]
    public uint? GrpcStatus { get; set; }

    /// <summary>The status comes from the request's <c>x-envoy-fault-abort-request</c> (or <c>x-envoy-fault-abort-grpc-request</c>) header.</summary>
    [ProtoField(4, InOneOf = true)]
    public HeaderAbort? HeaderAbort { get; set; }

    /// <summary>The share of requests aborted; unset is 0%.</summary>
    [ProtoField(3)]
    public FractionalPercent? Percentage { get; set; }
}

/// <summary><c>FaultAbort.HeaderAbort</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.fault.v3.FaultAbort.HeaderAbort")]
public sealed class HeaderAbort : EnvoyMessage;
