using Gateway.Filters;

namespace Gateway.Tracing;

/// <summary>Envoy's ResponseFlagUtils::toShortString: the set flags' short names, comma-separated in Envoy's order; <c>-</c> when none.</summary>
internal static class ResponseFlagText
{
    /// <summary>Short names, one per bit of <see cref="ResponseFlags"/> from bit 0.</summary>
    private static readonly string[] ShortNames =
    [
        "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH",
        "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO",
    ];

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
            return ShortNames[System.Numerics.BitOperations.TrailingZeroCount(bits)];
        }
        var builder = new System.Text.StringBuilder();
        for (var bit = 0; bit < ShortNames.Length; bit++)
        {
            if ((bits & (1L << bit)) != 0)
            {
                if (builder.Length > 0)
                {
                    builder.Append(',');
                }
                builder.Append(ShortNames[bit]);
            }
        }
        return builder.ToString();
    }
}
