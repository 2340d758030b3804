using System.Diagnostics;
using Gateway.Tracing.OpenTelemetry;

namespace Gateway.Tests.Tracing.OpenTelemetry;

/// <summary>The traceparent header as Envoy's OpenTelemetry span context extractor reads it.</summary>
public class TraceParentTests
{
    [Theory]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", false)]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-03", true)]
    [InlineData("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02", false)]
    public void TryParse_WellFormed_IdsAndSampledFlag(string header, bool sampled)
    {
        Assert.True(TraceParent.TryParse(header, out var traceId, out var parentId, out var isSampled));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", traceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", parentId.ToHexString());
        Assert.Equal(sampled, isSampled);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1")]
    [InlineData("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319cb-7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01")]
    [InlineData("0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0z")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")]
    public void TryParse_Malformed_False(string header)
        => Assert.False(TraceParent.TryParse(header, out _, out _, out _));

    [Fact]
    public void Format_IdsAndFlag_VersionZeroLowercase()
    {
        var traceId = ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c");
        var spanId = ActivitySpanId.CreateFromString("b7ad6b7169203331");
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceParent.Format(traceId, spanId, sampled: true));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", TraceParent.Format(traceId, spanId, sampled: false));
    }
}
