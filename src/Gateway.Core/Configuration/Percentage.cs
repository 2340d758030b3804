namespace Gateway.Configuration;

/// <summary>
/// A compiled fraction of requests (Envoy's ProtobufPercentHelper::evaluateFractionalPercent:
/// <c>random % denominator &lt; numerator</c>): 0 never draws, a numerator at or above the denominator always passes
/// without drawing, so the usual 0 % and 100 % cost nothing.
/// </summary>
internal readonly struct Percentage
{
    private readonly uint _numerator;
    private readonly uint _denominator;

    private Percentage(uint numerator, uint denominator)
    {
        _numerator = numerator;
        _denominator = denominator;
    }

    /// <summary>Every request.</summary>
    public static Percentage Always => new(1, 1);

    /// <summary>No request.</summary>
    public static Percentage Never => new(0, 1);

    /// <summary>True when the fraction is 100 % (no random draw is made).</summary>
    public bool IsAlways => _numerator >= _denominator;

    /// <summary>True when the fraction is 0 %.</summary>
    public bool IsNever => _numerator == 0;

    /// <summary>A validated <c>RuntimeFractionalPercent</c> (its <c>default_value</c>: there is no runtime), or <paramref name="absent"/> when it is not set.</summary>
    public static Percentage From(RuntimeFractionalPercent? percent, Percentage absent)
        => percent?.DefaultValue is { } value ? From(value) : absent;

    /// <summary>A <c>FractionalPercent</c>.</summary>
    public static Percentage From(FractionalPercent percent)
    {
        var denominator = percent.Denominator switch
        {
            DenominatorType.TenThousand => 10_000u,
            DenominatorType.Million => 1_000_000u,
            _ => 100u,
        };
        return new Percentage(percent.Numerator, denominator);
    }

    /// <summary>
    /// The same denominator with the numerator capped at <paramref name="numerator"/> (Envoy's HeaderPercentageProvider:
    /// a request header may lower a fault's percentage, never raise it).
    /// </summary>
    public Percentage CappedAt(uint numerator) => new(Math.Min(numerator, _numerator), _denominator);

    /// <summary>
    /// Envoy's featureEnabled with a given random value (evaluateFractionalPercent: <c>value % denominator &lt; numerator</c>),
    /// e.g. a request id's stable value, so every hop that sees the same value decides the same.
    /// </summary>
    public bool Evaluate(ulong value) => _numerator >= _denominator || value % _denominator < _numerator;

    /// <summary>Draws once for this request.</summary>
    public bool Evaluate(Random random)
        => _numerator != 0 && (_numerator >= _denominator || random.NextInt64(_denominator) < _numerator);
}
