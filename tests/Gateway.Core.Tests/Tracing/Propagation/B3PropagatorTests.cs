using System.Net.Http.Headers;
using Gateway.Tracing.Propagation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tracing.Propagation;

/// <summary>B3 extraction and injection, on the cases of the B3 specification (openzipkin/b3-propagation) and Envoy's extractor.</summary>
public class B3PropagatorTests
{
    private static HeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }
        return dictionary;
    }

    [Fact]
    public void TryExtract_MultipleHeadersOfTheSpecification_ReadsTraceSpanAndParent()
    {
        var headers = Headers(
            ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
            ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
            ("X-B3-SpanId", "e457b5a2e4d86bd1"),
            ("X-B3-Sampled", "1"));

        Assert.Equal(B3ExtractResult.Found, B3Propagator.TryExtract(headers, out var context, out var error));
        Assert.Null(error);
        Assert.Equal(new B3SpanContext(0x80f198ee56343ba8, 0x64fe8b2a57d3eff7, 0xe457b5a2e4d86bd1, 0x05e3ac9a4f6e3b90), context);
        Assert.True(B3Propagator.ExtractSampled(headers));
    }

    [Fact]
    public void TryExtract_SixtyFourBitTraceWithoutParent_HasNoParent()
    {
        var headers = Headers(("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"), ("x-b3-parentspanid", ""));

        Assert.Equal(B3ExtractResult.Found, B3Propagator.TryExtract(headers, out var context, out _));
        Assert.Equal(new B3SpanContext(0, 0xa3ce929d0e0e4736, 0x00f067aa0ba902b7, 0), context);
        Assert.Null(B3Propagator.ExtractSampled(headers));
    }

    [Theory]
    [InlineData("x-b3-traceid")]
    [InlineData("x-b3-spanid")]
    public void TryExtract_TraceOrSpanIdMissing_NotFound(string present)
    {
        var headers = Headers((present, "a3ce929d0e0e4736"), ("x-b3-sampled", "0"));

        Assert.Equal(B3ExtractResult.NotFound, B3Propagator.TryExtract(headers, out _, out _));
        Assert.False(B3Propagator.ExtractSampled(headers));
    }

    [Theory]
    [InlineData("x-b3-traceid", "zz3e929d0e0e4736", "Invalid trace_id zz3e929d0e0e4736")]
    [InlineData("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3effg", "Invalid traceid_high 80f198ee56343ba8 or tracid 64fe8b2a57d3effg")]
    [InlineData("x-b3-traceid", "180f198ee56343ba864fe8b2a57d3eff7", "Invalid trace_id 180f198ee56343ba864fe8b2a57d3eff7")]
    [InlineData("x-b3-spanid", "-1", "Invalid span id -1")]
    [InlineData("x-b3-parentspanid", "0x05e3ac9a4f6e3b", "Invalid parent span id 0x05e3ac9a4f6e3b")]
    public void TryExtract_MalformedMultipleHeader_MalformedWithEnvoysMessage(string name, string value, string message)
    {
        var headers = Headers(("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"));
        headers[name] = value;

        Assert.Equal(B3ExtractResult.Malformed, B3Propagator.TryExtract(headers, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", 0x80f198ee56343ba8UL, 0x64fe8b2a57d3eff7UL, 0xe457b5a2e4d86bd1UL, 0x05e3ac9a4f6e3b90UL, true)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90", 0x80f198ee56343ba8UL, 0x64fe8b2a57d3eff7UL, 0xe457b5a2e4d86bd1UL, 0x05e3ac9a4f6e3b90UL, true)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0", 0x80f198ee56343ba8UL, 0x64fe8b2a57d3eff7UL, 0xe457b5a2e4d86bd1UL, 0UL, false)]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-1-05e3ac9a4f6e3b90", 0UL, 0xa3ce929d0e0e4736UL, 0x00f067aa0ba902b7UL, 0x05e3ac9a4f6e3b90UL, true)]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-0", 0UL, 0xa3ce929d0e0e4736UL, 0x00f067aa0ba902b7UL, 0UL, false)]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7", 0UL, 0xa3ce929d0e0e4736UL, 0x00f067aa0ba902b7UL, 0UL, null)]
    public void TryExtract_SingleHeaderOfTheSpecification_ReadsIdsAndFlag(string b3, ulong high, ulong low, ulong span, ulong parent, bool? sampled)
    {
        var headers = Headers(("b3", b3));

        Assert.Equal(B3ExtractResult.Found, B3Propagator.TryExtract(headers, out var context, out _));
        Assert.Equal(new B3SpanContext(high, low, span, parent), context);
        Assert.Equal(sampled, B3Propagator.ExtractSampled(headers));
    }

    [Theory]
    [InlineData("0", false)]
    [InlineData("1", true)]
    [InlineData("d", true)]
    public void TryExtract_SingleHeaderWithOnlyASamplingFlag_NotFoundWithTheDecision(string b3, bool sampled)
    {
        // The b3 header is authoritative: the x-b3-* ids beside it are not read.
        var headers = Headers(("b3", b3), ("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"), ("x-b3-sampled", "1"));

        Assert.Equal(B3ExtractResult.NotFound, B3Propagator.TryExtract(headers, out _, out _));
        Assert.Equal(sampled, B3Propagator.ExtractSampled(headers));
        Assert.Equal(b3 == "d", B3Propagator.ExtractDebug(headers));
    }

    [Theory]
    [InlineData("x", "Invalid input: invalid sampling flag x")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b", "Invalid input: truncated")]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90a", "Invalid input: too long")]
    [InlineData("a3ce929d0e0e473x-00f067aa0ba902b7", "Invalid input: invalid trace id a3ce929d0e0e473x")]
    [InlineData("x0f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1", "Invalid input: invalid trace id high x0f198ee56343ba8")]
    [InlineData("a3ce929d0e0e4736+00f067aa0ba902b7", "Invalid input: not exists span id")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902bz", "Invalid input: invalid span id 00f067aa0ba902bz")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-", "Invalid input: truncated")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7+1", "Invalid input: not exists sampling field")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-x", "Invalid input: invalid sampling flag x")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-10", "Invalid input: truncated")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-1-05e3ac9a4f6e3b9", "Invalid input: truncated")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-1-05e3ac9a4f6e3b9x", "Invalid input: invalid parent id 05e3ac9a4f6e3b9x")]
    public void TryExtract_MalformedSingleHeader_MalformedWithEnvoysMessage(string b3, string message)
    {
        // A malformed b3 is not rescued by valid x-b3-* headers: Envoy gives the request no span.
        var headers = Headers(("b3", b3), ("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"));

        Assert.Equal(B3ExtractResult.Malformed, B3Propagator.TryExtract(headers, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("yes", false)]
    public void ExtractSampled_SampledHeader_OneOrTrueSamples(string value, bool sampled)
        => Assert.Equal(sampled, B3Propagator.ExtractSampled(Headers(("x-b3-sampled", value), ("x-b3-flags", "1"))));

    [Fact]
    public void ExtractSampled_DebugFlagWithoutSampledHeader_Sampled()
    {
        var headers = Headers(("x-b3-flags", "1"));

        Assert.True(B3Propagator.ExtractSampled(headers));
        Assert.True(B3Propagator.ExtractDebug(headers));
        Assert.Null(B3Propagator.ExtractSampled(Headers(("x-b3-flags", "0"))));
    }

    [Theory]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-2")]
    [InlineData("a3ce929d0e0e4736-00f067aa0ba902b7-")]
    public void ExtractSampled_SingleHeaderWithoutAValidFlag_LocalDecision(string b3)
        => Assert.Null(B3Propagator.ExtractSampled(Headers(("b3", b3), ("x-b3-sampled", "1"))));

    [Fact]
    public void Inject_ContextWithParent_WritesEnvoysFourHeadersReplacingOldOnes()
    {
        using var request = new HttpRequestMessage();
        request.Headers.TryAddWithoutValidation("x-b3-traceid", "old");
        request.Headers.TryAddWithoutValidation("X-B3-Sampled", "old");

        B3Propagator.Inject(request.Headers, 0x80f198ee56343ba8, 0x64fe8b2a57d3eff7, 0x00000000000000ab, 0x05e3ac9a4f6e3b90, sampled: true);

        Assert.Equal(["80f198ee56343ba864fe8b2a57d3eff7"], request.Headers.GetValues("x-b3-traceid"));
        Assert.Equal(["00000000000000ab"], request.Headers.GetValues("x-b3-spanid"));
        Assert.Equal(["05e3ac9a4f6e3b90"], request.Headers.GetValues("x-b3-parentspanid"));
        Assert.Equal(["1"], request.Headers.GetValues("x-b3-sampled"));
        Assert.False(request.Headers.Contains("x-b3-flags"));
        Assert.False(request.Headers.Contains("b3"));
    }

    [Fact]
    public void Inject_RootSpanNotSampled_NoParentAndSampledZero()
    {
        using var request = new HttpRequestMessage();
        request.Headers.TryAddWithoutValidation("x-b3-parentspanid", "05e3ac9a4f6e3b90");

        B3Propagator.Inject(request.Headers, 0, 0x1, 0x1, parentId: null, sampled: false);

        Assert.Equal(["0000000000000001"], request.Headers.GetValues("x-b3-traceid"));
        Assert.False(request.Headers.Contains("x-b3-parentspanid"));
        Assert.Equal(["0"], request.Headers.GetValues("x-b3-sampled"));
    }

    [Theory]
    [InlineData("1", 1UL)]
    [InlineData("00000000000000000000abc", 0xabcUL)]
    [InlineData("FFFFFFFFFFFFFFFF", ulong.MaxValue)]
    public void HexId_TryParse_AcceptsWhatEnvoysAtoullAccepts(string text, ulong value)
    {
        Assert.True(HexId.TryParse(text, out var parsed));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10000000000000000")]
    [InlineData(" 1")]
    [InlineData("+1")]
    public void HexId_TryParse_RefusesEmptyOverflowAndDecorations(string text) => Assert.False(HexId.TryParse(text, out _));
}
