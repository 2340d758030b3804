using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Listeners;
using Gateway.Tests.Common;
using Gateway.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.AccessLog;

public sealed class LogFilterTests
{
    private readonly FakeTimeProvider _time = new();

    private (RequestStreamInfo Info, DefaultHttpContext Http) Finished(int status, TimeSpan duration = default, string? requestId = null)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Features.Get<IHttpRequestFeature>()!.RawTarget = "/p";
        if (requestId is not null)
        {
            http.Request.Headers["x-request-id"] = requestId;
        }
        var info = new RequestStreamInfo(http, _time, _time.GetTimestamp());
        http.Response.StatusCode = status;
        _time.Advance(duration);
        info.Complete();
        return (info, http);
    }

    private static bool Passes(AccessLogFilter filter, RequestStreamInfo info, Random? random = null, AccessLogType type = AccessLogType.DownstreamEnd)
        => LogFilter.Compile(filter).Evaluate(AccessLogContext.ForRequest(info, type), random ?? new ScriptedRandom());

    private static AccessLogFilter Status(ComparisonOp op, uint value)
        => new() { StatusCodeFilter = new StatusCodeFilter { Comparison = new ComparisonFilter { Op = op, Value = new RuntimeUInt32 { DefaultValue = value, RuntimeKey = "k" } } } };

    [Theory]
    [InlineData(ComparisonOp.Ge, 500u, 503, true)]
    [InlineData(ComparisonOp.Ge, 500u, 200, false)]
    [InlineData(ComparisonOp.Eq, 404u, 404, true)]
    [InlineData(ComparisonOp.Le, 299u, 302, false)]
    public void StatusCodeFilter_Comparison_FollowsTheOperator(ComparisonOp op, uint value, int status, bool expected)
        => Assert.Equal(expected, Passes(Status(op, value), Finished(status).Info));

    [Fact]
    public void DurationFilter_InMilliseconds_ComparesTheWholeDuration()
    {
        var filter = new AccessLogFilter { DurationFilter = new DurationFilter { Comparison = new ComparisonFilter { Op = ComparisonOp.Ge, Value = new RuntimeUInt32 { DefaultValue = 100, RuntimeKey = "k" } } } };

        Assert.True(Passes(filter, Finished(200, TimeSpan.FromMilliseconds(100.7)).Info));
        Assert.False(Passes(filter, Finished(200, TimeSpan.FromMilliseconds(99.9)).Info));
    }

    [Fact]
    public void NotHealthCheckFilter_HealthCheck_IsNotLogged()
    {
        var (info, _) = Finished(200);
        var filter = new AccessLogFilter { NotHealthCheckFilter = new NotHealthCheckFilter() };
        Assert.True(Passes(filter, info));

        info.SetHealthCheck();

        Assert.False(Passes(filter, info));
    }

    [Theory]
    [InlineData(3, true, true)]
    [InlineData(2, true, false)]
    [InlineData(0, false, false)]
    public void TraceableFilter_OnlyForcedTraces_Pass(int reason, bool traced, bool expected)
    {
        var (info, _) = Finished(200);
        info.TracingDecision = new TracingDecision((TraceReason)reason, traced);

        Assert.Equal(expected, Passes(new AccessLogFilter { TraceableFilter = new TraceableFilter() }, info));
    }

    [Fact]
    public void RuntimeFilter_WithRequestId_SamplesByItsFirstEightHexDigits()
    {
        var filter = new AccessLogFilter { RuntimeFilter = new RuntimeFilter { RuntimeKey = "k", PercentSampled = new FractionalPercent { Numerator = 10 } } };

        // 0x00000009 % 100 = 9 < 10; 0x0000000a = 10 is not; the rest of the id does not count (Envoy's getInteger).
        Assert.True(Passes(filter, Finished(200, requestId: "00000009-0000-4000-8000-00000000000a").Info));
        Assert.False(Passes(filter, Finished(200, requestId: "0000000a-0000-4000-8000-000000000009").Info));
        // Shorter than a UUID still has a stable value: only 8 characters are needed.
        Assert.True(Passes(filter, Finished(200, requestId: "00000009").Info));
    }

    [Fact]
    public void RuntimeFilter_IndependentRandomness_UsesTheRandomSource()
    {
        var filter = new AccessLogFilter { RuntimeFilter = new RuntimeFilter { RuntimeKey = "k", UseIndependentRandomness = true, PercentSampled = new FractionalPercent { Numerator = 50, Denominator = DenominatorType.TenThousand } } };
        var info = Finished(200, requestId: "f1b2c3d4-0000-4000-8000-000000000009").Info;

        Assert.True(Passes(filter, info, new ScriptedRandom(20_049)));
        Assert.False(Passes(filter, info, new ScriptedRandom(20_050)));
    }

    [Fact]
    public void RuntimeFilter_NoRequestId_UsesTheRandomSource()
    {
        var filter = new AccessLogFilter { RuntimeFilter = new RuntimeFilter { RuntimeKey = "k", PercentSampled = new FractionalPercent { Numerator = 1 } } };

        Assert.True(Passes(filter, Finished(200).Info, new ScriptedRandom(300)));
        Assert.False(Passes(filter, Finished(200).Info, new ScriptedRandom(301)));
    }

    [Fact]
    public void AndOrFilters_Combine_AsLogicalOperators()
    {
        var info = Finished(503).Info;
        var and = new AccessLogFilter { AndFilter = new AndFilter { Filters = [Status(ComparisonOp.Ge, 500), Status(ComparisonOp.Eq, 500)] } };
        var or = new AccessLogFilter { OrFilter = new OrFilter { Filters = [Status(ComparisonOp.Eq, 500), Status(ComparisonOp.Eq, 503)] } };

        Assert.False(Passes(and, info));
        Assert.True(Passes(or, info));
    }

    [Fact]
    public void HeaderFilter_RequestHeader_IsMatchedAsRoutesMatchIt()
    {
        var (info, http) = Finished(200);
        var filter = new AccessLogFilter { HeaderFilter = new HeaderFilter { Header = new HeaderMatcher { Name = "x-debug", PrefixMatch = "on" } } };
        Assert.False(Passes(filter, info));

        http.Request.Headers["x-debug"] = "only";

        Assert.True(Passes(filter, info));
    }

    [Fact]
    public void ResponseFlagFilter_ListedFlags_PassOnlyThose()
    {
        var (info, _) = Finished(503);
        var listed = new AccessLogFilter { ResponseFlagFilter = new ResponseFlagFilter { Flags = ["UF", "UO"] } };
        var any = new AccessLogFilter { ResponseFlagFilter = new ResponseFlagFilter() };
        Assert.False(Passes(listed, info));
        Assert.False(Passes(any, info));

        info.SetResponseFlag(ResponseFlags.NoHealthyUpstream);
        Assert.False(Passes(listed, info));
        Assert.True(Passes(any, info));

        info.SetResponseFlag(ResponseFlags.UpstreamOverflow);
        Assert.True(Passes(listed, info));
    }

    [Fact]
    public void GrpcStatusFilter_StatusFromTrailersHeadersOrHttpStatus()
    {
        var filter = new AccessLogFilter { GrpcStatusFilter = new GrpcStatusFilter { Statuses = [GrpcStatus.Unavailable, GrpcStatus.NotFound] } };
        var exclude = new AccessLogFilter { GrpcStatusFilter = new GrpcStatusFilter { Statuses = [GrpcStatus.Unavailable], Exclude = true } };

        // No grpc-status: 503 is inferred as Unavailable.
        var (inferred, _) = Finished(503);
        Assert.True(Passes(filter, inferred));
        Assert.False(Passes(exclude, inferred));

        var (fromHeader, http) = Finished(200);
        http.Response.Headers["grpc-status"] = "5";
        Assert.True(Passes(filter, fromHeader));

        var (fromTrailer, http2) = Finished(200);
        http2.Response.Headers["grpc-status"] = "5";
        var trailers = new HeaderDictionary { ["grpc-status"] = "0" };
        http2.Features.Set<IHttpResponseTrailersFeature>(new TrailersFeature(trailers));
        Assert.False(Passes(filter, fromTrailer));

        var (invalid, http3) = Finished(503);
        http3.Response.Headers["grpc-status"] = "99";
        Assert.False(Passes(filter, invalid));
    }

    [Fact]
    public void LogTypeFilter_EntryType_IsCompared()
    {
        var info = Finished(200).Info;
        var filter = new AccessLogFilter { LogTypeFilter = new LogTypeFilter { Types = [AccessLogType.UpstreamEnd] } };

        Assert.False(Passes(filter, info, type: AccessLogType.DownstreamEnd));
        Assert.True(Passes(filter, info, type: AccessLogType.UpstreamEnd));
    }

    private static AccessLogFilter Metadata(ValueMatcher value, bool? matchIfKeyNotFound = null, bool invert = false)
        => new()
        {
            MetadataFilter = new MetadataFilter
            {
                Matcher = new MetadataMatcher { Filter = "envoy.common", Path = [new() { Key = "hint" }, new() { Key = "log" }], Value = value, Invert = invert },
                MatchIfKeyNotFound = matchIfKeyNotFound,
            },
        };

    [Fact]
    public void MetadataFilter_ValueAtThePath_PassesWhenTheValueMatcherMatches()
    {
        var filter = Metadata(new ValueMatcher { BoolMatch = true });
        var (yes, _) = Finished(200);
        yes.DynamicMetadata("envoy.common")["hint"] = new System.Text.Json.Nodes.JsonObject { ["log"] = true };
        var (no, _) = Finished(200);
        no.DynamicMetadata("envoy.common")["hint"] = new System.Text.Json.Nodes.JsonObject { ["log"] = false };
        var (text, _) = Finished(200);
        text.DynamicMetadata("envoy.common")["hint"] = new System.Text.Json.Nodes.JsonObject { ["log"] = "true" };

        Assert.True(Passes(filter, yes));
        Assert.False(Passes(filter, no));
        // Present but of another kind: the matcher decides (no match), not match_if_key_not_found.
        Assert.False(Passes(filter, text));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void MetadataFilter_KeyNotFound_MatchIfKeyNotFoundDecidesDefaultTrue(bool? matchIfKeyNotFound, bool expected)
    {
        var filter = Metadata(new ValueMatcher { BoolMatch = true }, matchIfKeyNotFound);
        var (none, _) = Finished(200);
        var (otherNamespace, _) = Finished(200);
        otherNamespace.DynamicMetadata("other")["hint"] = new System.Text.Json.Nodes.JsonObject { ["log"] = true };
        var (notAStruct, _) = Finished(200);
        notAStruct.DynamicMetadata("envoy.common")["hint"] = "flat";

        Assert.Equal(expected, Passes(filter, none));
        Assert.Equal(expected, Passes(filter, otherNamespace));
        Assert.Equal(expected, Passes(filter, notAStruct));
    }

    [Fact]
    public void MetadataFilter_NullValue_IsPresentAndMatchedByTheMatcher()
    {
        var (info, _) = Finished(200);
        info.DynamicMetadata("envoy.common")["hint"] = new System.Text.Json.Nodes.JsonObject { ["log"] = null };

        Assert.True(Passes(Metadata(new ValueMatcher { NullMatch = new NullMatch() }, matchIfKeyNotFound: false), info));
        Assert.False(Passes(Metadata(new ValueMatcher { BoolMatch = true }, matchIfKeyNotFound: true), info));
    }

    [Fact]
    public void MetadataFilter_Invert_IsNotAppliedAsInEnvoy()
    {
        var (info, _) = Finished(200);
        info.DynamicMetadata("envoy.common")["hint"] = new System.Text.Json.Nodes.JsonObject { ["log"] = true };

        Assert.True(Passes(Metadata(new ValueMatcher { BoolMatch = true }, invert: true), info));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(false, false)]
    public void MetadataFilter_NoMatcher_MatchIfKeyNotFoundAlwaysDecides(bool? matchIfKeyNotFound, bool expected)
    {
        var (info, _) = Finished(200);
        info.DynamicMetadata("envoy.common")["hint"] = true;

        Assert.Equal(expected, Passes(new AccessLogFilter { MetadataFilter = new MetadataFilter { MatchIfKeyNotFound = matchIfKeyNotFound } }, info));
    }

    private sealed class TrailersFeature(IHeaderDictionary trailers) : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = trailers;
    }
}
