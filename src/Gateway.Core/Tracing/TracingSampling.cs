using Gateway.Configuration;

namespace Gateway.Tracing;

/// <summary>
/// The compiled sampling of one connection manager (HCM <c>tracing</c>), possibly overridden by a route's <c>tracing</c>
/// (Envoy's ConnectionManagerTracingConfig / RouteTracing). <see cref="Client"/> applies to a request with
/// <c>x-client-trace-id</c>, <see cref="Random"/> to any other request, <see cref="Overall"/> to the result
/// (Envoy's setSampled on the started span).
/// </summary>
/// <param name="Client">HCM <c>client_sampling</c>; default 100 %.</param>
/// <param name="Random">HCM <c>random_sampling</c>; default 100 %.</param>
/// <param name="Overall">HCM <c>overall_sampling</c>; default 100 %.</param>
internal readonly record struct TracingSampling(Percentage Client, Percentage Random, Percentage Overall)
{
    /// <summary>Envoy's defaults: everything sampled.</summary>
    public static TracingSampling Default => new(Percentage.Always, Percentage.Always, Percentage.Always);

    /// <summary>
    /// An HCM <c>envoy.type.v3.Percent</c> (0–100, a double) as Envoy converts it
    /// (<c>numerator = round(value * 100)</c> out of <c>TEN_THOUSAND</c>), or <paramref name="absent"/> when not set.
    /// </summary>
    public static Percentage FromPercent(Percent? value, Percentage absent)
        => value is { } percent
            ? Percentage.From(new FractionalPercent { Numerator = (uint)Math.Round(percent.Value * 100), Denominator = DenominatorType.TenThousand })
            : absent;
}
