using Gateway.Configuration;

namespace Gateway.Filters.Common;

/// <summary>
/// <c>envoy.config.core.v3.RuntimeFeatureFlag</c>: a switch with a default. There is no runtime layer here, so
/// <c>runtime_key</c> is accepted (Envoy requires it) but only <c>default_value</c> decides.
/// </summary>
[EnvoyType("envoy.config.core.v3.RuntimeFeatureFlag")]
public sealed class RuntimeFeatureFlag : EnvoyMessage
{
    /// <summary>The value when the runtime does not override it (required).</summary>
    [ProtoField(1)]
    public bool? DefaultValue { get; set; }

    /// <summary>The runtime key that would override the value (required; no runtime layer reads it).</summary>
    [ProtoField(2)]
    public string? RuntimeKey { get; set; }

    /// <summary>Reports Envoy's required-field errors (a field present but refused by the binder was reported already).</summary>
    internal static void Validate(RuntimeFeatureFlag? flag, HttpFilterValidationContext context)
    {
        if (flag is null)
        {
            return;
        }
        if (!flag.HasField("default_value"))
        {
            context.Error(flag.LocationOf("default_value"), "default_value is required");
        }
        if (flag.RuntimeKey is { Length: 0 } || !flag.HasField("runtime_key"))
        {
            context.Error(flag.LocationOf("runtime_key"), "runtime_key is required (min length 1)");
        }
    }
}
