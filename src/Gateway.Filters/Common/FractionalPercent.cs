using Gateway.Configuration;

namespace Gateway.Filters.Common;

/// <summary><c>envoy.type.v3.FractionalPercent</c>: numerator / denominator.</summary>
[EnvoyType("envoy.type.v3.FractionalPercent")]
public sealed class FractionalPercent : EnvoyMessage
{
    /// <summary>The numerator; a value above the denominator means always.</summary>
    [ProtoField(1)]
    public uint Numerator { get; set; }

    /// <summary>The denominator; default <c>HUNDRED</c>.</summary>
    [ProtoField(2)]
    public DenominatorType Denominator { get; set; }

    /// <summary><c>FractionalPercent.DenominatorType</c>.</summary>
    public enum DenominatorType
    {
        /// <summary>100.</summary>
        Hundred = 0,

        /// <summary>10,000.</summary>
        TenThousand = 1,

        /// <summary>1,000,000.</summary>
        Million = 2,
    }
}

/// <summary><c>envoy.config.core.v3.RuntimeFractionalPercent</c>; there is no runtime layer, so the default value always applies.</summary>
[EnvoyType("envoy.config.core.v3.RuntimeFractionalPercent")]
public sealed class RuntimeFractionalPercent : EnvoyMessage
{
    /// <summary>The percentage (required).</summary>
    [ProtoField(1)]
    public FractionalPercent? DefaultValue { get; set; }

    /// <summary>The runtime key that would override it in Envoy (accepted; no runtime layer, see docs/compatibility.md).</summary>
    [ProtoField(2)]
    public string? RuntimeKey { get; set; }
}

/// <summary>
/// A compiled <see cref="FractionalPercent"/>: Envoy's <c>ProtobufPercentHelper::evaluateFractionalPercent</c>, true when
/// a random value modulo the denominator is below the numerator.
/// </summary>
internal readonly struct PercentSampler
{
    private readonly uint _numerator;
    private readonly uint _denominator;

    public PercentSampler(uint numerator, uint denominator)
    {
        _numerator = numerator;
        _denominator = denominator;
    }

    /// <summary>The percentage as configured; an unset percentage is protobuf's default, 0/100.</summary>
    public static PercentSampler From(FractionalPercent? percent)
        => new(percent?.Numerator ?? 0, DenominatorOf(percent));

    public static uint DenominatorOf(FractionalPercent? percent) => percent?.Denominator switch
    {
        FractionalPercent.DenominatorType.TenThousand => 10_000,
        FractionalPercent.DenominatorType.Million => 1_000_000,
        _ => 100,
    };

    public uint Numerator => _numerator;

    public uint Denominator => _denominator;

    /// <summary>The same denominator with a smaller numerator (header-controlled percentages are capped by the configured one).</summary>
    public PercentSampler CappedAt(uint numerator) => new(Math.Min(numerator, _numerator), _denominator);

    public bool Sample(Random random)
    {
        if (_numerator == 0)
        {
            return false;
        }
        if (_numerator >= _denominator)
        {
            return true;
        }
        return (uint)random.NextInt64(_denominator) < _numerator;
    }
}
