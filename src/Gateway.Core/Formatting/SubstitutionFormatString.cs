using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// <c>envoy.config.core.v3.SubstitutionFormatString</c>: a format of command operators, as text or as a JSON
/// structure (access log <c>log_format</c>, local reply <c>body_format</c>). Exactly one of <c>text_format</c>,
/// <c>json_format</c> and <c>text_format_source</c> is set; the compiled form is <see cref="Gateway.Formatting.SubstitutionFormatter"/>.
/// </summary>
[EnvoyType("envoy.config.core.v3.SubstitutionFormatString")]
public sealed class SubstitutionFormatString : EnvoyMessage
{
    /// <summary>Deprecated in Envoy in favour of <c>text_format_source</c>; still accepted.</summary>
    [ProtoField(1, InOneOf = true)]
    public string? TextFormat { get; set; }

    /// <summary>A JSON object whose string values are formats; keys are written sorted, one object per line.</summary>
    [ProtoField(2, InOneOf = true)]
    public JsonObject? JsonFormat { get; set; }

    /// <summary>The text format read from a data source when the configuration is loaded.</summary>
    [ProtoField(5, InOneOf = true)]
    public DataSource? TextFormatSource { get; set; }

    /// <summary>A missing value is an empty string in text (not <c>-</c>) and its key is left out in JSON.</summary>
    [ProtoField(3)]
    public bool OmitEmptyValues { get; set; }

    /// <summary>The content type of what the format makes (default <c>text/plain</c>, or <c>application/json</c> for <c>json_format</c>).</summary>
    [ProtoField(4)]
    public string? ContentType { get; set; }

    /// <summary>Formatter extensions adding command operators (<c>envoy.formatter.req_without_query</c>, <c>envoy.formatter.metadata</c>).</summary>
    [ProtoField(6)]
    public List<FormatterExtensionConfig> Formatters { get; set; } = [];

    /// <summary>Options of <c>json_format</c>.</summary>
    [ProtoField(7)]
    public JsonFormatOptions? JsonFormatOptions { get; set; }
}

/// <summary>
/// An <c>envoy.config.core.v3.TypedExtensionConfig</c> in <c>formatters</c>: the same message as
/// <see cref="TypedExtensionConfig"/>, whose <c>typed_config</c> may only hold a formatter extension.
/// </summary>
[EnvoyType("envoy.config.core.v3.TypedExtensionConfig")]
public sealed class FormatterExtensionConfig : EnvoyMessage
{
    /// <summary>The extension's name (e.g. <c>envoy.formatter.req_without_query</c>).</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The formatter's configuration, typed by <c>@type</c>.</summary>
    [ProtoField(2)]
    [AnyField(EnvoyTypeCategory.Formatter)]
    public EnvoyMessage? TypedConfig { get; set; }
}

/// <summary><c>envoy.config.core.v3.JsonFormatOptions</c>.</summary>
[EnvoyType("envoy.config.core.v3.JsonFormatOptions")]
public sealed class JsonFormatOptions : EnvoyMessage
{
    /// <summary>Deprecated in Envoy and without effect: the keys are always written sorted, as Envoy does.</summary>
    [ProtoField(1)]
    public bool SortProperties { get; set; }
}

/// <summary>
/// <c>envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery</c> (<c>envoy.formatter.req_without_query</c>):
/// adds <c>%REQ_WITHOUT_QUERY(X?Y):Z%</c>, a request header without its query string. The message has no fields.
/// </summary>
[EnvoyType("envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery")]
public sealed class ReqWithoutQuery : EnvoyMessage;

/// <summary>
/// <c>envoy.extensions.formatter.metadata.v3.Metadata</c> (<c>envoy.formatter.metadata</c>): adds
/// <c>%METADATA(TYPE:NAMESPACE:KEY...):Z%</c>. The message has no fields.
/// </summary>
[EnvoyType("envoy.extensions.formatter.metadata.v3.Metadata")]
public sealed class MetadataFormatterConfig : EnvoyMessage;
