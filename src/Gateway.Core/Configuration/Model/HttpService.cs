namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.HttpService</c>: an HTTP service reached through one of the gateway's clusters.</summary>
[EnvoyType("envoy.config.core.v3.HttpService")]
public sealed class HttpService : EnvoyMessage
{
    /// <summary>The service's URI, cluster and timeout.</summary>
    [ProtoField(1)]
    public HttpUri? HttpUri { get; set; }

    /// <summary>Headers added to every request (at most 1000).</summary>
    [ProtoField(2)]
    public List<HeaderValueOption> RequestHeadersToAdd { get; set; } = [];
}

/// <summary><c>envoy.config.core.v3.HttpUri</c>: where a request goes (the URI's host and path) and through which cluster.</summary>
[EnvoyType("envoy.config.core.v3.HttpUri")]
public sealed class HttpUri : EnvoyMessage
{
    /// <summary>The URI (required): its host is the request's <c>Host</c>, its path the request's path.</summary>
    [ProtoField(1)]
    public string? Uri { get; set; }

    /// <summary>The cluster the request is sent through (required).</summary>
    [ProtoField(2, InOneOf = true)]
    public string? Cluster { get; set; }

    /// <summary>How long the request may take (required, not negative).</summary>
    [ProtoField(3)]
    public TimeSpan? Timeout { get; set; }
}
