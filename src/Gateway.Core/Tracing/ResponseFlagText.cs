using Gateway.Filters;
using Gateway.Formatting;

namespace Gateway.Tracing;

/// <summary>Envoy's ResponseFlagUtils::toShortString for the <c>response_flags</c> span tag: the set flags' short names, comma-separated in Envoy's order; <c>-</c> when none (the access logs' table, <see cref="ResponseFlagNames"/>).</summary>
internal static class ResponseFlagText
{
    public static string ShortString(ResponseFlags flags)
    {
        if (flags == ResponseFlags.None)
        {
            return "-";
        }
        var bits = (long)flags;
        if ((bits & (bits - 1)) == 0)
        {
            // One flag (the common case): no string building.
            return ResponseFlagNames.Short[System.Numerics.BitOperations.TrailingZeroCount(bits)];
        }
        var builder = new System.Text.StringBuilder();
        ResponseFlagNames.Append(flags, longNames: false, builder);
        return builder.ToString();
    }
}
