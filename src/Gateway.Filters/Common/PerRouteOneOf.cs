using Gateway.Configuration;

namespace Gateway.Filters.Common;

/// <summary>The <c>oneof override { bool disabled (const true); … }</c> of Envoy's per-route filter messages.</summary>
internal static class PerRouteOneOf
{
    /// <summary>Reports Envoy's one-of errors; true when <paramref name="other"/> is the member set (and should be checked further).</summary>
    public static bool Validate(EnvoyMessage config, bool? disabled, string other, HttpFilterValidationContext context)
    {
        var hasDisabled = config.HasField("disabled");
        var hasOther = config.HasField(other);
        if (hasDisabled && hasOther)
        {
            context.Error(config.LocationOf(other), $"only one of disabled and {other} may be set (oneof override)");
        }
        else if (!hasDisabled && !hasOther)
        {
            context.Error(config.Location, $"one of disabled or {other} is required (oneof override)");
        }
        else if (hasDisabled && disabled != true)
        {
            context.Error(config.LocationOf("disabled"), "disabled: value must equal true");
        }
        else
        {
            return hasOther;
        }
        return false;
    }
}
