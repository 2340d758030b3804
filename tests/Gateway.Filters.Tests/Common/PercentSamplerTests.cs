using Gateway.Filters.Common;

namespace Gateway.Tests.Common;

/// <summary>FractionalPercent sampling, with a random source that returns chosen values.</summary>
public class PercentSamplerTests
{
    private sealed class FixedRandom(long value) : Random
    {
        public override long NextInt64(long maxValue) => value % maxValue;
    }

    [Theory]
    [InlineData(25u, FractionalPercent.DenominatorType.Hundred, 24L, true)]
    [InlineData(25u, FractionalPercent.DenominatorType.Hundred, 25L, false)]
    [InlineData(1u, FractionalPercent.DenominatorType.TenThousand, 0L, true)]
    [InlineData(1u, FractionalPercent.DenominatorType.TenThousand, 1L, false)]
    [InlineData(999_999u, FractionalPercent.DenominatorType.Million, 999_998L, true)]
    [InlineData(200u, FractionalPercent.DenominatorType.Hundred, 99L, true)]
    [InlineData(0u, FractionalPercent.DenominatorType.Hundred, 0L, false)]
    public void Sample_RandomBelowNumerator_Enabled(uint numerator, FractionalPercent.DenominatorType denominator, long random, bool expected)
    {
        var sampler = PercentSampler.From(new FractionalPercent { Numerator = numerator, Denominator = denominator });

        Assert.Equal(expected, sampler.Sample(new FixedRandom(random)));
    }

    [Fact]
    public void CappedAt_HeaderNumerator_NeverAboveTheConfiguredOne()
    {
        var sampler = PercentSampler.From(new FractionalPercent { Numerator = 50 });

        Assert.Equal(10u, sampler.CappedAt(10).Numerator);
        Assert.Equal(50u, sampler.CappedAt(90).Numerator);
        Assert.Equal(100u, sampler.CappedAt(90).Denominator);
    }

    [Fact]
    public void From_Unset_ZeroPercent()
    {
        Assert.False(PercentSampler.From(null).Sample(new FixedRandom(0)));
    }
}
