using Gateway.Listeners;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Listeners;

/// <summary>Envoy's grpc-timeout parsing and printing and refreshDurationTimeout's arithmetic.</summary>
public class StreamDurationTests
{
    [Theory]
    [InlineData("5H", 5 * 3_600_000)]
    [InlineData("2M", 120_000)]
    [InlineData("3S", 3_000)]
    [InlineData("250m", 250)]
    [InlineData("1500u", 2)]
    [InlineData("1000u", 1)]
    [InlineData("1n", 1)]
    [InlineData("99999999m", 99_999_999)]
    public void ParseGrpcTimeout_Valid_IsMilliseconds(string value, long milliseconds)
        => Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), StreamDuration.ParseGrpcTimeout(value));

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("-5S")]
    [InlineData("+5S")]
    [InlineData("123456789m")]
    [InlineData("S")]
    public void ParseGrpcTimeout_Invalid_IsNull(string value) => Assert.Null(StreamDuration.ParseGrpcTimeout(value));

    [Theory]
    [InlineData(300, "300m")]
    [InlineData(99_999_999, "99999999m")]
    [InlineData(100_000_000, "100000S")]
    [InlineData(0, "0m")]
    public void ToGrpcTimeout_Milliseconds_IsEnvoysText(long milliseconds, string expected)
        => Assert.Equal(expected, StreamDuration.ToGrpcTimeout(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Remaining_TimeAlreadySpent_CountsAgainstTheLimit()
    {
        var plan = new StreamDurationPlan(TimeSpan.FromSeconds(1), null, null);

        Assert.Equal(TimeSpan.FromMilliseconds(700), StreamDuration.Remaining(plan, new HeaderDictionary(), TimeSpan.FromMilliseconds(300)));
        Assert.Equal(TimeSpan.Zero, StreamDuration.Remaining(plan, new HeaderDictionary(), TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Remaining_ZeroOrNoLimitWithoutGrpcTimeout_IsNone()
    {
        Assert.Null(StreamDuration.Remaining(new StreamDurationPlan(TimeSpan.Zero, null, null), new HeaderDictionary(), TimeSpan.Zero));
        Assert.Null(StreamDuration.Remaining(new StreamDurationPlan(null, TimeSpan.FromSeconds(1), null), new HeaderDictionary(), TimeSpan.Zero));
    }

    [Fact]
    public void Remaining_OffsetNotBelowTheHeader_IsZeroAndRewritesGrpcTimeout()
    {
        var headers = new HeaderDictionary { ["grpc-timeout"] = "100m", ["content-type"] = "application/grpc" };

        var remaining = StreamDuration.Remaining(new StreamDurationPlan(null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100)), headers, TimeSpan.Zero);

        Assert.Equal(TimeSpan.Zero, remaining);
        Assert.Equal("0m", headers["grpc-timeout"].ToString());
    }

    [Fact]
    public void Remaining_ConnectionManagerLimit_AppliesUnlessTheRouteSetsOne()
    {
        var hcm = TimeSpan.FromSeconds(5);

        Assert.Equal(hcm, StreamDuration.Remaining(null, hcm, new HeaderDictionary(), TimeSpan.Zero));
        Assert.Equal(hcm, StreamDuration.Remaining(new StreamDurationPlan(null, null, null), hcm, new HeaderDictionary(), TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(1), StreamDuration.Remaining(new StreamDurationPlan(TimeSpan.FromSeconds(1), null, null), hcm, new HeaderDictionary(), TimeSpan.Zero));
        Assert.Null(StreamDuration.Remaining(new StreamDurationPlan(TimeSpan.Zero, null, null), hcm, new HeaderDictionary(), TimeSpan.Zero));
    }
}
