
namespace Gateway.Configuration;

/// <summary><c>envoy.config.core.v3.TypedExtensionConfig</c>: a named extension and its typed configuration.</summary>
[EnvoyType("envoy.config.core.v3.TypedExtensionConfig")]
public sealed class TypedExtensionConfig : EnvoyMessage
{
    /// <summary>The extension's name (required, non-empty); filters use it in their stat names.</summary>
    [ProtoField(1)]
    public string? Name { get; set; }

    /// <summary>The extension's configuration, typed by <c>@type</c> (required).</summary>
    [ProtoField(2)]
    [AnyField]
    public EnvoyMessage? TypedConfig { get; set; }
}
