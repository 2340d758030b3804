using Gateway.Configuration.Types;
using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.LocalRateLimit;

/// <summary><c>envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit</c>: the filter's configuration, and its per-route configuration.</summary>
[EnvoyType("envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", NotSupported =
[
    "stage", "local_rate_limit_per_downstream_connection", "local_cluster_rate_limit", "vh_rate_limits",
    "rate_limited_as_resource_exhausted",
])]
public sealed class LocalRateLimitConfig : EnvoyMessage
{
    /// <summary>The prefix of the filter's stats (<c>&lt;stat_prefix&gt;.http_local_rate_limit.*</c>), required.</summary>
    [ProtoField(1)]
    public string? StatPrefix { get; set; }

    /// <summary>The status of a limited request; default 429, and 429 for anything below 400.</summary>
    [ProtoField(2)]
    public HttpStatus? Status { get; set; }

    /// <summary>The default bucket; required per route.</summary>
    [ProtoField(3)]
    public TokenBucket? TokenBucket { get; set; }

    /// <summary>The fraction of requests the limiter sees; default 0%.</summary>
    [ProtoField(4)]
    public RuntimeFractionalPercent? FilterEnabled { get; set; }

    /// <summary>The fraction of enabled requests whose limit is enforced; default 0%.</summary>
    [ProtoField(5)]
    public RuntimeFractionalPercent? FilterEnforced { get; set; }

    /// <summary>Headers added to the reply of a limited, enforced request (at most 10).</summary>
    [ProtoField(6)]
    public List<HeaderValueOption> ResponseHeadersToAdd { get; set; } = [];

    /// <summary>Buckets for descriptors the request produces (through <see cref="RateLimits"/>).</summary>
    [ProtoField(8)]
    public List<LocalRateLimitDescriptor> Descriptors { get; set; } = [];

    /// <summary>Headers added to a limited request that is not enforced and goes upstream (at most 10).</summary>
    [ProtoField(10)]
    public List<HeaderValueOption> RequestHeadersToAddWhenNotEnforced { get; set; } = [];

    /// <summary>Adds <c>x-ratelimit-limit</c>, <c>-remaining</c> and <c>-reset</c> to responses.</summary>
    [ProtoField(12)]
    [EnvoyField("enable_x_ratelimit_headers")]
    public XRateLimitHeadersRfcVersion EnableXRatelimitHeaders { get; set; }

    /// <summary>Whether the default bucket is consumed also when a descriptor matched; default true.</summary>
    [ProtoField(14)]
    public bool? AlwaysConsumeDefaultTokenBucket { get; set; }

    /// <summary>How the request's descriptors are made (the embedded alternative to the route's <c>rate_limits</c>).</summary>
    [ProtoField(17)]
    public List<RateLimitConfig> RateLimits { get; set; } = [];
}

/// <summary><c>envoy.extensions.common.ratelimit.v3.XRateLimitHeadersRFCVersion</c>.</summary>
public enum XRateLimitHeadersRfcVersion
{
    /// <summary>No headers.</summary>
    Off = 0,

    /// <summary>draft-polli-ratelimit-headers-03.</summary>
    DraftVersion_03 = 1,
}

/// <summary><c>envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor")]
public sealed class LocalRateLimitDescriptor : EnvoyMessage
{
    /// <summary>The entries a request descriptor must equal, in order (at least one).</summary>
    [ProtoField(1)]
    public List<RateLimitDescriptorEntry> Entries { get; set; } = [];

    /// <summary>The descriptor's bucket (required).</summary>
    [ProtoField(2)]
    public TokenBucket? TokenBucket { get; set; }
}

/// <summary><c>envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry")]
public sealed class RateLimitDescriptorEntry : EnvoyMessage
{
    /// <summary>The key.</summary>
    [ProtoField(1)]
    public string? Key { get; set; }

    /// <summary>The value.</summary>
    [ProtoField(2)]
    public string? Value { get; set; }
}

/// <summary><c>envoy.extensions.common.ratelimit.v3.RateLimitConfig</c>: actions that together make one descriptor.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitConfig")]
public sealed class RateLimitConfig : EnvoyMessage
{
    /// <summary>The actions, in order (at least one); if one cannot add its entry, the request gets no descriptor from this config.</summary>
    [ProtoField(1)]
    public List<RateLimitAction> Actions { get; set; } = [];
}

/// <summary><c>envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action", NotSupported =
[
    "source_cluster", "remote_address", "metadata", "extension", "masked_remote_address", "query_parameter_value_match",
])]
public sealed class RateLimitAction : EnvoyMessage
{
    /// <summary>(<c>destination_cluster</c>, the route's cluster).</summary>
    [ProtoField(2, InOneOf = true)]
    public DestinationClusterAction? DestinationCluster { get; set; }

    /// <summary>(descriptor_key, the header's value).</summary>
    [ProtoField(3, InOneOf = true)]
    public RequestHeadersAction? RequestHeaders { get; set; }

    /// <summary>(descriptor_key or <c>generic_key</c>, descriptor_value).</summary>
    [ProtoField(5, InOneOf = true)]
    public GenericKeyAction? GenericKey { get; set; }

    /// <summary>(descriptor_key or <c>header_match</c>, descriptor_value) when the headers match as expected.</summary>
    [ProtoField(6, InOneOf = true)]
    public HeaderValueMatchAction? HeaderValueMatch { get; set; }
}

/// <summary><c>RateLimitConfig.Action.DestinationCluster</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action.DestinationCluster")]
public sealed class DestinationClusterAction : EnvoyMessage;

/// <summary><c>RateLimitConfig.Action.RequestHeaders</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action.RequestHeaders")]
public sealed class RequestHeadersAction : EnvoyMessage
{
    /// <summary>The request header whose (first) value is the entry's value.</summary>
    [ProtoField(1)]
    public string? HeaderName { get; set; }

    /// <summary>The entry's key.</summary>
    [ProtoField(2)]
    public string? DescriptorKey { get; set; }

    /// <summary>Without the header: true leaves the entry out, false (default) gives no descriptor.</summary>
    [ProtoField(3)]
    public bool SkipIfAbsent { get; set; }
}

/// <summary><c>RateLimitConfig.Action.GenericKey</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action.GenericKey")]
public sealed class GenericKeyAction : EnvoyMessage
{
    /// <summary>The entry's value (required).</summary>
    [ProtoField(1)]
    public string? DescriptorValue { get; set; }

    /// <summary>The entry's key; default <c>generic_key</c>.</summary>
    [ProtoField(2)]
    public string? DescriptorKey { get; set; }
}

/// <summary><c>RateLimitConfig.Action.HeaderValueMatch</c>.</summary>
[EnvoyType("envoy.extensions.common.ratelimit.v3.RateLimitConfig.Action.HeaderValueMatch")]
public sealed class HeaderValueMatchAction : EnvoyMessage
{
    /// <summary>The entry's value (required).</summary>
    [ProtoField(1)]
    public string? DescriptorValue { get; set; }

    /// <summary>Whether the entry is added when the headers match (default true) or when they do not.</summary>
    [ProtoField(2)]
    public bool? ExpectMatch { get; set; }

    /// <summary>The headers, all of which must match (at least one).</summary>
    [ProtoField(3)]
    public List<HeaderMatcher> Headers { get; set; } = [];

    /// <summary>The entry's key; default <c>header_match</c>.</summary>
    [ProtoField(4)]
    public string? DescriptorKey { get; set; }
}
