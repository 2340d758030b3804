using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Formatting;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.AccessLog;

public sealed class AccessLogFormatTests
{
    [Fact]
    public void For_TheGatewaysUsualClockAndRandom_ReusesTheFormatterCompiledWithThePlan()
    {
        var format = AccessLogFormats.Compile((SubstitutionFormatString?)null);

        var first = format.For(new FormatterOptions { Time = TimeProvider.System, Random = Random.Shared });
        var second = format.For(new FormatterOptions { Time = TimeProvider.System, Random = Random.Shared });

        Assert.Same(first, second);
    }

    [Fact]
    public void For_AnotherClock_CompilesItsOwnFormatter()
    {
        var format = AccessLogFormats.Compile((SubstitutionFormatString?)null);
        var usual = format.For(FormatterOptions.Default);

        var other = format.For(new FormatterOptions { Time = new FakeTimeProvider() });

        Assert.NotSame(usual, other);
    }
}
