namespace Gateway.Configuration;

/// <summary><c>envoy.config.route.v3.RouteMatch</c>.</summary>
[EnvoyType("envoy.config.route.v3.RouteMatch", NotSupported =
[
    "tls_context",
    "filter_state", "cookies",
])]
public sealed class RouteMatch : EnvoyMessage
{
    /// <summary>Plain string prefix of the <c>:path</c>.</summary>
    public string? Prefix { get; set; }

    /// <summary>Exact path, query string removed.</summary>
    public string? Path { get; set; }

    /// <summary>Regex that must match the whole path (query removed).</summary>
    public RegexMatcher? SafeRegex { get; set; }

    /// <summary>Prefix that must end at a path segment boundary.</summary>
    public string? PathSeparatedPrefix { get; set; }

    /// <summary>CONNECT requests only (no path is compared); a path specifier of its own.</summary>
    [ProtoField(12)]
    public ConnectMatcher? ConnectMatcher { get; set; }

    /// <summary>A URI template the whole path (query removed) must match (<c>envoy.path.match.uri_template.uri_template_matcher</c>).</summary>
    public PathMatchPolicy? PathMatchPolicy { get; set; }

    /// <summary>Case sensitivity of prefix/path; default true.</summary>
    public bool? CaseSensitive { get; set; }

    /// <summary>All must match.</summary>
    public List<HeaderMatcher> Headers { get; set; } = [];

    /// <summary>All must match.</summary>
    public List<QueryParameterMatcher> QueryParameters { get; set; } = [];

    /// <summary>All must match the stream's dynamic metadata (as filters set it before the route is matched again).</summary>
    public List<MetadataMatcher> DynamicMetadata { get; set; } = [];

    /// <summary>Only gRPC requests (content-type <c>application/grpc</c>, alone or with '+…' or ';…').</summary>
    public GrpcRouteMatchOptions? Grpc { get; set; }

    /// <summary>The fraction of requests this route takes (its <c>default_value</c>: there is no runtime layer), decided on the stream's random value.</summary>
    public RuntimeFractionalPercent? RuntimeFraction { get; set; }
}

/// <summary><c>envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions</c> (no fields).</summary>
[EnvoyType("envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions")]
public sealed class GrpcRouteMatchOptions : EnvoyMessage;

/// <summary><c>envoy.type.matcher.v3.RegexMatcher</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.RegexMatcher")]
public sealed class RegexMatcher : EnvoyMessage
{
    /// <summary>The expression (RE2 syntax).</summary>
    public string? Regex { get; set; }

    /// <summary>Deprecated engine selector; accepted with no effect besides naming the engine (see docs/compatibility.md).</summary>
    public GoogleRe2? GoogleRe2 { get; set; }
}

/// <summary><c>envoy.type.matcher.v3.RegexMatcher.GoogleRE2</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.RegexMatcher.GoogleRE2", NotSupported = ["max_program_size"])]
public sealed class GoogleRe2 : EnvoyMessage;

/// <summary><c>envoy.type.matcher.v3.StringMatcher</c>.</summary>
[EnvoyType("envoy.type.matcher.v3.StringMatcher", NotSupported = ["custom"])]
public sealed class StringMatcher : EnvoyMessage
{
    /// <summary>Exact value.</summary>
    public string? Exact { get; set; }

    /// <summary>Prefix.</summary>
    public string? Prefix { get; set; }

    /// <summary>Suffix.</summary>
    public string? Suffix { get; set; }

    /// <summary>Whole-value regex.</summary>
    public RegexMatcher? SafeRegex { get; set; }

    /// <summary>Substring.</summary>
    public string? Contains { get; set; }

    /// <summary>Compare ignoring ASCII case (not for regex).</summary>
    public bool IgnoreCase { get; set; }
}

/// <summary><c>envoy.config.route.v3.HeaderMatcher</c>.</summary>
[EnvoyType("envoy.config.route.v3.HeaderMatcher")]
public sealed class HeaderMatcher : EnvoyMessage
{
    /// <summary>Header name (case-insensitive); <c>:authority</c>, <c>:method</c>, <c>:path</c>, <c>:scheme</c> allowed.</summary>
    public string? Name { get; set; }

    /// <summary>Deprecated exact match.</summary>
    public string? ExactMatch { get; set; }

    /// <summary>Deprecated regex match.</summary>
    public RegexMatcher? SafeRegexMatch { get; set; }

    /// <summary>Integer range [start, end).</summary>
    public Int64Range? RangeMatch { get; set; }

    /// <summary>Header present (true) or absent (false).</summary>
    public bool? PresentMatch { get; set; }

    /// <summary>Deprecated prefix match.</summary>
    public string? PrefixMatch { get; set; }

    /// <summary>Deprecated suffix match.</summary>
    public string? SuffixMatch { get; set; }

    /// <summary>Deprecated substring match.</summary>
    public string? ContainsMatch { get; set; }

    /// <summary>String match on the value.</summary>
    public StringMatcher? StringMatch { get; set; }

    /// <summary>Invert the result.</summary>
    public bool InvertMatch { get; set; }

    /// <summary>Match a missing header as the empty string.</summary>
    public bool TreatMissingHeaderAsEmpty { get; set; }
}

/// <summary><c>envoy.type.v3.Int64Range</c>: [start, end).</summary>
[EnvoyType("envoy.type.v3.Int64Range")]
public sealed class Int64Range : EnvoyMessage
{
    /// <summary>Inclusive start.</summary>
    public long Start { get; set; }

    /// <summary>Exclusive end.</summary>
    public long End { get; set; }
}

/// <summary><c>envoy.config.route.v3.QueryParameterMatcher</c>.</summary>
[EnvoyType("envoy.config.route.v3.QueryParameterMatcher")]
public sealed class QueryParameterMatcher : EnvoyMessage
{
    /// <summary>Parameter name (case-sensitive).</summary>
    public string? Name { get; set; }

    /// <summary>Match on the value.</summary>
    public StringMatcher? StringMatch { get; set; }

    /// <summary>Parameter present.</summary>
    public bool? PresentMatch { get; set; }
}
