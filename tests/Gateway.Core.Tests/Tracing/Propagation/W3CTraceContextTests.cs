using Gateway.Tracing.Propagation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tracing.Propagation;

/// <summary><c>traceparent</c> parsing and formatting and <c>tracestate</c> pass-through (W3C Trace Context level 1).</summary>
public class W3CTraceContextTests
{
    private const string Example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public void TryParse_SpecificationExample_ReadsIdsAndSampledFlag()
    {
        Assert.True(W3CTraceContext.TryParse(Example, out var parent));
        Assert.Equal(new W3CTraceParent(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736, 0x00f067aa0ba902b7, 1), parent);
        Assert.True(parent.Sampled);
    }

    [Theory]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", false)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", true)]
    [InlineData("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-adds", true)]
    [InlineData("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true)]
    public void TryParse_ValidVariants_Accepted(string value, bool sampled)
    {
        Assert.True(W3CTraceContext.TryParse(value, out var parent));
        Assert.Equal(sampled, parent.Sampled);
    }

    [Theory]
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")] // uppercase
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")] // all-zero trace id
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")] // all-zero span id
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")] // forbidden version
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")] // version 00 is exact
    [InlineData("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x")] // a later version continues after a dash
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01")]
    [InlineData("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01")]
    [InlineData("")]
    public void TryParse_InvalidValue_Refused(string value) => Assert.False(W3CTraceContext.TryParse(value, out _));

    [Fact]
    public void Format_Ids_VersionZeroLowercase()
    {
        Assert.Equal(Example, W3CTraceContext.Format(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736, 0x00f067aa0ba902b7, 1));
        Assert.Equal("00-0000000000000000000000000000002a-000000000000000b-00", W3CTraceContext.Format(0, 42, 11, 0));
    }

    [Fact]
    public void TryExtract_SplitTraceState_JoinedAndPassedThrough()
    {
        var headers = new HeaderDictionary { ["traceparent"] = Example };
        headers.Append("tracestate", "rojo=00f067aa0ba902b7");
        headers.Append("tracestate", "congo=t61rcWkgMzE");

        Assert.True(W3CTraceContext.TryExtract(headers, out var parent, out var state));
        Assert.Equal(0x00f067aa0ba902b7UL, parent.SpanId);
        Assert.Equal("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", state);

        using var request = new HttpRequestMessage();
        W3CTraceContext.Inject(request.Headers, parent.TraceIdHigh, parent.TraceIdLow, 0xb, sampled: true, state);
        Assert.Equal(["00-4bf92f3577b34da6a3ce929d0e0e4736-000000000000000b-01"], request.Headers.GetValues("traceparent"));
        Assert.Equal(["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"], request.Headers.GetValues("tracestate"));
    }

    [Fact]
    public void TryExtract_TwoTraceParents_Refused()
    {
        var headers = new HeaderDictionary();
        headers.Append("traceparent", Example);
        headers.Append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-01");

        Assert.False(W3CTraceContext.TryExtract(headers, out _, out _));
    }
}
