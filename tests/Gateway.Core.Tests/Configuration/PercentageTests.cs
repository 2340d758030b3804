using Gateway.Tests.Common;
using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>FractionalPercent evaluation, with scripted random draws.</summary>
public class PercentageTests
{
    [Theory]
    [InlineData(25u, DenominatorType.Hundred, 24L, true)]
    [InlineData(25u, DenominatorType.Hundred, 25L, false)]
    [InlineData(1u, DenominatorType.TenThousand, 0L, true)]
    [InlineData(1u, DenominatorType.TenThousand, 1L, false)]
    [InlineData(999_999u, DenominatorType.Million, 999_998L, true)]
    public void Evaluate_DrawBelowNumerator_True(uint numerator, DenominatorType denominator, long draw, bool expected)
    {
        var percentage = Percentage.From(new FractionalPercent { Numerator = numerator, Denominator = denominator });

        Assert.Equal(expected, percentage.Evaluate(new ScriptedRandom(draw)));
    }

    [Fact]
    public void CappedAt_HeaderNumerator_NeverAboveTheConfiguredOne()
    {
        var percentage = Percentage.From(new FractionalPercent { Numerator = 50 });

        Assert.True(percentage.CappedAt(10).Evaluate(new ScriptedRandom(9)));
        Assert.False(percentage.CappedAt(10).Evaluate(new ScriptedRandom(10)));
        Assert.False(percentage.CappedAt(90).Evaluate(new ScriptedRandom(50)));
        Assert.True(percentage.CappedAt(0).IsNever);
    }
}
