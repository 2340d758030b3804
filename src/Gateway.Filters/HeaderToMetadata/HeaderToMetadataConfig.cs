using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.HeaderToMetadata;

/// <summary><c>Config.ValueType</c>: how the value is stored.</summary>
public enum HeaderToMetadataValueType
{
    /// <summary>A string.</summary>
    String = 0,

    /// <summary>A number (parsed as a double; a value that is not one adds nothing).</summary>
    Number = 1,

    /// <summary>A serialized <c>google.protobuf.Value</c> (binary wire format; usually base64-encoded).</summary>
    ProtobufValue = 2,
}

/// <summary><c>Config.ValueEncode</c>.</summary>
public enum HeaderToMetadataValueEncode
{
    /// <summary>Not encoded.</summary>
    None = 0,

    /// <summary>Base64, padding optional.</summary>
    Base64 = 1,
}

/// <summary><c>envoy.extensions.filters.http.header_to_metadata.v3.Config.KeyValuePair</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.header_to_metadata.v3.Config.KeyValuePair")]
public sealed class HeaderToMetadataKeyValuePair : EnvoyMessage
{
    /// <summary>The namespace; empty means <c>envoy.filters.http.header_to_metadata</c>.</summary>
    [ProtoField(1)]
    public string? MetadataNamespace { get; set; }

    /// <summary>The key (required).</summary>
    [ProtoField(2)]
    public string? Key { get; set; }

    /// <summary>A fixed value used instead of the header's.</summary>
    [ProtoField(3)]
    public string? Value { get; set; }

    /// <summary>A rewrite of the header's value (<c>on_header_present</c> only).</summary>
    [ProtoField(6)]
    public RegexMatchAndSubstitute? RegexValueRewrite { get; set; }

    /// <summary>The value's type.</summary>
    [ProtoField(4)]
    public HeaderToMetadataValueType Type { get; set; }

    /// <summary>The value's encoding.</summary>
    [ProtoField(5)]
    public HeaderToMetadataValueEncode Encode { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.header_to_metadata.v3.Config.Rule</c>.</summary>
[EnvoyType("envoy.extensions.filters.http.header_to_metadata.v3.Config.Rule")]
public sealed class HeaderToMetadataRule : EnvoyMessage
{
    /// <summary>The header to read (or <see cref="Cookie"/>).</summary>
    [ProtoField(1)]
    public string? Header { get; set; }

    /// <summary>The cookie to read (or <see cref="Header"/>).</summary>
    [ProtoField(5)]
    public string? Cookie { get; set; }

    /// <summary>Applied when the header or cookie is present.</summary>
    [ProtoField(2)]
    public HeaderToMetadataKeyValuePair? OnHeaderPresent { get; set; }

    /// <summary>Applied when it is missing (its value is required).</summary>
    [ProtoField(3)]
    public HeaderToMetadataKeyValuePair? OnHeaderMissing { get; set; }

    /// <summary>Remove the header once read (headers only).</summary>
    [ProtoField(4)]
    public bool Remove { get; set; }
}

/// <summary><c>envoy.extensions.filters.http.header_to_metadata.v3.Config</c>: the filter's and the per-route configuration.</summary>
[EnvoyType("envoy.extensions.filters.http.header_to_metadata.v3.Config")]
public sealed class HeaderToMetadataConfig : EnvoyMessage
{
    /// <summary>Rules for the request headers.</summary>
    [ProtoField(1)]
    public List<HeaderToMetadataRule> RequestRules { get; set; } = [];

    /// <summary>Rules for the response headers.</summary>
    [ProtoField(2)]
    public List<HeaderToMetadataRule> ResponseRules { get; set; } = [];

    /// <summary>When set, stats are emitted under <c>http_filter_name.&lt;stat_prefix&gt;.</c>.</summary>
    [ProtoField(3)]
    public string? StatPrefix { get; set; }
}
