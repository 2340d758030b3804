using System.Text;
using Gateway.Formatting;

namespace Gateway.Tests.Formatting;

public sealed class DateFormatterTests
{
    // 2018-04-03T23:06:09.123456789Z is not representable (100 ns ticks): .1234567 s.
    private static readonly DateTimeOffset Instant = DateTimeOffset.FromUnixTimeSeconds(1522796769).AddTicks(1234567);

    private static string Format(string format, DateTimeOffset time, TimeZoneInfo? zone = null)
    {
        var formatter = DateFormatter.Create(format, zone ?? TimeZoneInfo.Utc, out var error);
        Assert.True(formatter is not null, error);
        var output = new StringBuilder();
        formatter!.Append(time, output);
        return output.ToString();
    }

    [Theory]
    [InlineData("%Y/%m/%d", "2018/04/03")]
    [InlineData("%Y-%m-%dT%H:%M:%E3SZ", "2018-04-03T23:06:09.123Z")]
    [InlineData("%s", "1522796769")]
    [InlineData("%s.%3f", "1522796769.123")]
    [InlineData("%f", "123456700")]
    [InlineData("%1f|%2f|%6f|%9f", "1|12|123456|123456700")]
    [InlineData("%E6S", "09.123456")]
    [InlineData("%E*S", "09.1234567")]
    [InlineData("%E0S", "09")]
    [InlineData("%T %D %F %R", "23:06:09 04/03/18 2018-04-03 23:06")]
    [InlineData("%a %A %b %B %j %e %I %p", "Tue Tuesday Apr April 093  3 11 PM")]
    [InlineData("%z %Ez %Z", "+0000 +00:00 UTC")]
    [InlineData("%u %w %y %C %%", "2 2 18 20 %")]
    [InlineData("no specifiers", "no specifiers")]
    [InlineData("%q", "%q")]
    public void Append_Specifier_IsFormattedAsEnvoy(string format, string expected)
        => Assert.Equal(expected, Format(format, Instant));

    [Fact]
    public void Append_LocalZone_UsesTheZonesOffset()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("test+2", TimeSpan.FromHours(2), "test+2", "TST");

        Assert.Equal("2018-04-04T01:06:09.123+0200", Format(DateFormatter.DefaultLocalFormat, Instant, zone));
    }

    [Fact]
    public void Append_SameSecondDifferentSubsecond_ReusesTheSecondButNotItsDigits()
    {
        var formatter = DateFormatter.Create("%H:%M:%S.%3f %s", TimeZoneInfo.Utc, out _)!;
        var output = new StringBuilder();

        formatter.Append(Instant, output);
        output.Append('|');
        formatter.Append(Instant.AddMilliseconds(500), output);
        output.Append('|');
        formatter.Append(Instant.AddSeconds(1), output);

        Assert.Equal("23:06:09.123 1522796769|23:06:09.623 1522796769|23:06:10.123 1522796770", output.ToString());
    }

    [Fact]
    public void Append_ExactSecond_HasZeroSubsecondDigits()
        => Assert.Equal("09.000|09", Format("%E3S|%E*S", DateTimeOffset.FromUnixTimeSeconds(1522796769)));

    [Theory]
    [InlineData("%n")]
    [InlineData("%Y%En")]
    [InlineData("%-5n")]
    public void Create_NewlineSpecifier_IsRefused(string format)
    {
        Assert.Null(DateFormatter.Create(format, TimeZoneInfo.Utc, out var error));
        Assert.Equal("Invalid header configuration. Format string contains newline.", error);
    }

    [Fact]
    public void Format_StartTimeOperators_UseTheStartAndTheClock()
    {
        var f = new FormatterFixture();
        f.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(
            "2018-04-03T23:06:09.123Z|2018/04/03 23:06:09|2018-04-04T01:06:09.123+0200|2018-04-03T23:06:11.123Z|1522796771",
            f.Format("%START_TIME%|%START_TIME(%Y/%m/%d %H:%M:%S)%|%START_TIME_LOCAL%|%EMIT_TIME%|%EMIT_TIME(%s)%"));
    }
}
