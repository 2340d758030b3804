
namespace Gateway.Configuration;

/// <summary><c>envoy.type.v3.FractionalPercent</c>: <see cref="Numerator"/> out of <see cref="Denominator"/>.</summary>
[EnvoyType("envoy.type.v3.FractionalPercent")]
public sealed class FractionalPercent : EnvoyMessage
{
    /// <summary>The numerator; a value at or above the denominator means always.</summary>
    [ProtoField(1)]
    public uint Numerator { get; set; }

    /// <summary>The denominator; default <c>HUNDRED</c>.</summary>
    [ProtoField(2)]
    public DenominatorType Denominator { get; set; }
}

/// <summary><c>envoy.type.v3.FractionalPercent.DenominatorType</c>.</summary>
public enum DenominatorType
{
    /// <summary>100.</summary>
    Hundred = 0,

    /// <summary>10,000.</summary>
    TenThousand = 1,

    /// <summary>1,000,000.</summary>
    Million = 2,
}

/// <summary>
/// <c>envoy.config.core.v3.RuntimeFractionalPercent</c>. There is no runtime layer: <see cref="RuntimeKey"/> is
/// accepted and the <see cref="DefaultValue"/> always applies (docs/compatibility.md).
/// </summary>
[EnvoyType("envoy.config.core.v3.RuntimeFractionalPercent")]
public sealed class RuntimeFractionalPercent : EnvoyMessage
{
    /// <summary>The fraction used (required).</summary>
    [ProtoField(1)]
    public FractionalPercent? DefaultValue { get; set; }

    /// <summary>The runtime key that would override it in Envoy.</summary>
    [ProtoField(2)]
    public string? RuntimeKey { get; set; }
}
