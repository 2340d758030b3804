namespace Gateway.Configuration;

/// <summary>
/// Placeholder for <c>envoy.config.core.v3.SubstitutionFormatString</c> until the formatter (Formatting/) is merged:
/// this file is deleted then. Every field is refused meanwhile, so nothing is parsed and ignored.
/// </summary>
[EnvoyType("envoy.config.core.v3.SubstitutionFormatString", NotSupported =
[
    "text_format", "json_format", "text_format_source", "omit_empty_values", "content_type", "formatters", "json_format_options",
])]
public sealed class SubstitutionFormatString : EnvoyMessage;
