using System.Net;
using Gateway.Configuration;
using Gateway.Listeners;
using Gateway.Tests.Common;
using Gateway.Tracing;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Listeners;

/// <summary>
/// Envoy's mutateRequestHeaders, mutateTracingRequestHeader and mutateResponseHeaders on a request from any address
/// (the cases of Envoy's conn_manager_utility_test.cc; real sockets here only come from loopback, see EdgeRequestTests).
/// Envoy's test treats RFC 1918 addresses as internal (its pre-1.33 default): here <c>internal_address_config</c> says so.
/// </summary>
public class RequestHeaderMutationTests
{
    private static readonly IReadOnlyList<IPNetwork> Rfc1918 = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16")];

    private static ConnectionManagerPlan Plan(bool useRemoteAddress = false, uint trustedHops = 0, bool skipXffAppend = false, bool generateRequestId = true,
        bool preserveExternalRequestId = false, bool alwaysSetRequestIdInResponse = false, string via = "", bool appendXForwardedPort = false)
        => new("ingress_http", "envoy", ServerHeaderTransformation.Overwrite, generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse,
            SuppressEnvoyHeaders: false, RouteConfigName: "local", Routes: [])
        {
            UseRemoteAddress = useRemoteAddress,
            XffNumTrustedHops = trustedHops,
            SkipXffAppend = skipXffAppend,
            Via = via,
            AppendXForwardedPort = appendXForwardedPort,
        };

    private static DefaultHttpContext Request(string remote = "10.0.0.3", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Scheme = "http";
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }
        return context;
    }

    private static string? Header(HttpContext context, string name)
        => context.Request.Headers.TryGetValue(name, out var value) ? value.ToString() : null;

    [Fact]
    public void MutateRequestHeaders_UseRemoteAddressExternalPeer_AppendsItAndIsAnEdgeRequest()
    {
        var context = Request("12.12.12.12");

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Equal(new RequestOrigin(false, true, IPAddress.Parse("12.12.12.12")), origin);
        Assert.Equal("12.12.12.12", Header(context, "x-forwarded-for"));
        Assert.Equal("12.12.12.12", Header(context, "x-envoy-external-address"));
        Assert.Null(Header(context, "x-envoy-internal"));
    }

    [Theory]
    [InlineData(true, 0u, "9999", "10000")]
    [InlineData(true, 1u, "9999", "9999")]
    [InlineData(true, 1u, null, "10000")]
    [InlineData(false, 0u, "9999", "9999")]
    [InlineData(false, 0u, null, "10000")]
    public void MutateRequestHeaders_AppendXForwardedPort_ListenerPortUnlessATrustedOrNoRemoteAddressHopSetOne(bool useRemoteAddress, uint hops, string? incoming, string expected)
    {
        var context = incoming is null ? Request("12.12.12.12") : Request("12.12.12.12", ("x-forwarded-port", incoming));
        context.Connection.LocalPort = 10000;

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: useRemoteAddress, trustedHops: hops, appendXForwardedPort: true), Rfc1918);

        Assert.Equal(expected, Header(context, "x-forwarded-port"));
    }

    [Fact]
    public void MutateRequestHeaders_NoAppendXForwardedPort_AddsNone()
    {
        var context = Request("12.12.12.12");
        context.Connection.LocalPort = 10000;

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Null(Header(context, "x-forwarded-port"));
    }

    [Fact]
    public void MutateRequestHeaders_AddUserAgentClientUserAgent_KeptAndNoNodeHeaderForAnEmptyId()
    {
        var context = Request("10.0.0.3", ("user-agent", "curl/8"), ("x-envoy-downstream-service-node", "client"));

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(), Rfc1918, new LocalNode(string.Empty, "front", string.Empty));

        Assert.Equal("curl/8", Header(context, "user-agent"));
        Assert.Equal("front", Header(context, "x-envoy-downstream-service-cluster"));
        // An internal request keeps what its previous hop (a trusted proxy) said.
        Assert.Equal("client", Header(context, "x-envoy-downstream-service-node"));
    }

    [Fact]
    public void MutateRequestHeaders_NoAddUserAgent_NoDownstreamServiceHeaders()
    {
        var context = Request("10.0.0.3");

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(), Rfc1918);

        Assert.Null(Header(context, "x-envoy-downstream-service-cluster"));
        Assert.Null(Header(context, "user-agent"));
    }

    [Fact]
    public void MutateRequestHeaders_SkipXffAppend_LeavesXffAsItCame()
    {
        var context = Request("12.12.12.12", ("x-forwarded-for", "198.51.100.1"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true, skipXffAppend: true), Rfc1918);

        Assert.Equal(IPAddress.Parse("12.12.12.12"), origin.ClientAddress);
        Assert.Equal("198.51.100.1", Header(context, "x-forwarded-for"));
    }

    [Fact]
    public void MutateRequestHeaders_UseRemoteAddressNoTrustedHops_OverwritesForwardedProto()
    {
        var context = Request("12.12.12.12", ("x-forwarded-proto", "https"));

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Equal("http", Header(context, "x-forwarded-proto"));
    }

    [Fact]
    public void MutateRequestHeaders_UseRemoteAddressTrustedHop_KeepsForwardedProto()
    {
        var context = Request("12.12.12.12", ("x-forwarded-proto", "https"));

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true, trustedHops: 1, skipXffAppend: true), Rfc1918);

        Assert.Equal("https", Header(context, "x-forwarded-proto"));
    }

    [Fact]
    public void MutateRequestHeaders_UseRemoteAddressLoopbackPeer_AppendsTheLocalAddress()
    {
        var context = Request("127.0.0.1");

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), [IPNetwork.Parse("127.0.0.0/8")]);

        Assert.True(origin.Internal);
        Assert.Equal(RequestHeaderMutation.LocalAddressText, Header(context, "x-forwarded-for"));
        Assert.Equal("true", Header(context, "x-envoy-internal"));
    }

    [Fact]
    public void MutateRequestHeaders_UseRemoteAddressInternalPeer_IsInternalAndKeepsItsHeaders()
    {
        var context = Request("10.0.0.1", ("x-envoy-external-address", "60.0.0.1"), ("x-envoy-expected-rq-timeout-ms", "10"), ("x-request-id", "original_request_id"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Equal(new RequestOrigin(true, false, IPAddress.Parse("10.0.0.1")), origin);
        Assert.Equal("60.0.0.1", Header(context, "x-envoy-external-address"));
        Assert.Equal("10.0.0.1", Header(context, "x-forwarded-for"));
        Assert.Equal("10", Header(context, "x-envoy-expected-rq-timeout-ms"));
        Assert.Equal("original_request_id", Header(context, "x-request-id"));
    }

    [Fact]
    public void MutateRequestHeaders_InternalPeerWithInternalXff_IsNotInternal()
    {
        // Envoy's legacy rule: with use_remote_address, any incoming XFF makes the request external.
        var context = Request("10.0.0.1", ("x-forwarded-for", "10.0.0.2"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Equal(new RequestOrigin(false, true, IPAddress.Parse("10.0.0.1")), origin);
        Assert.Equal("10.0.0.2,10.0.0.1", Header(context, "x-forwarded-for"));
    }

    [Fact]
    public void MutateRequestHeaders_UseRemoteAddressWithTrustedHops_TrustsTheNthAddressFromTheRight()
    {
        var context = Request("203.0.113.128", ("x-forwarded-for", "198.51.100.1"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true, trustedHops: 1), Rfc1918);

        Assert.Equal(IPAddress.Parse("198.51.100.1"), origin.ClientAddress);
        Assert.Equal("198.51.100.1", Header(context, "x-envoy-external-address"));
        Assert.Equal("198.51.100.1,203.0.113.128", Header(context, "x-forwarded-for"));
    }

    [Fact]
    public void MutateRequestHeaders_TrustedHopsWithoutRemoteAddress_ReadsXffAndSetsNoExternalAddress()
    {
        var context = Request("127.0.0.1", ("x-forwarded-for", "198.51.100.2, 198.51.100.1"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(trustedHops: 1), Rfc1918);

        Assert.Equal(new RequestOrigin(false, false, IPAddress.Parse("198.51.100.2"), FromForwardedFor: true), origin);
        Assert.Null(Header(context, "x-envoy-external-address"));
        Assert.Equal("198.51.100.2, 198.51.100.1", Header(context, "x-forwarded-for"));
    }

    [Fact]
    public void MutateRequestHeaders_TrustedHopsBeyondXff_FallBackToThePeer()
    {
        var context = Request("127.0.0.1", ("x-forwarded-for", "10.0.0.9"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(trustedHops: 1), Rfc1918);

        Assert.Equal(new RequestOrigin(false, false, IPAddress.Loopback), origin);
    }

    [Theory]
    [InlineData("10.0.0.1", true)]
    [InlineData(" 10.0.0.1 ", true)]
    [InlineData("34.0.0.1", false)]
    [InlineData("10.0.0.2, 10.0.0.1", false)]
    [InlineData("10.1", false)]
    [InlineData("0x0a.0.0.1", false)]
    [InlineData("10.0.0.1:80", false)]
    [InlineData("blah", false)]
    public void MutateRequestHeaders_DontUseRemoteAddress_InternalOnlyForASingleInternalXffEntry(string forwardedFor, bool expected)
    {
        var context = Request("10.0.0.3", ("x-forwarded-for", forwardedFor), ("x-envoy-retry-on", "5xx"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(), Rfc1918);

        Assert.Equal(expected, origin.Internal);
        Assert.False(origin.Edge);
        Assert.Equal(expected ? "5xx" : null, Header(context, "x-envoy-retry-on"));
        Assert.Equal(forwardedFor, Header(context, "x-forwarded-for"));
    }

    [Fact]
    public void MutateRequestHeaders_InvalidXff_FallsBackToThePeerAsClientAddress()
    {
        var context = Request("60.0.0.2", ("x-forwarded-for", "blah"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(), Rfc1918);

        Assert.Equal(new RequestOrigin(false, false, IPAddress.Parse("60.0.0.2")), origin);
        Assert.Null(Header(context, "x-envoy-external-address"));
    }

    [Fact]
    public void MutateRequestHeaders_ExternalNotEdge_KeepsRequestIdAndDownstreamCluster()
    {
        var context = Request("10.0.0.3", ("x-envoy-downstream-service-cluster", "foo"), ("x-request-id", "id"), ("x-forwarded-for", "34.0.0.1"));

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(), Rfc1918);

        Assert.Equal(new RequestOrigin(false, false, IPAddress.Parse("34.0.0.1"), FromForwardedFor: true), origin);
        Assert.Equal("foo", Header(context, "x-envoy-downstream-service-cluster"));
        Assert.Equal("id", Header(context, "x-request-id"));
    }

    [Fact]
    public void MutateRequestHeaders_EdgeRequest_RegeneratesTheIdAndWipesDownstreamHeaders()
    {
        var context = Request("34.0.0.1", ("x-envoy-downstream-service-cluster", "foo"), ("x-envoy-downstream-service-node", "n"),
            ("x-envoy-decorator-operation", "op"), ("x-request-id", "will_be_regenerated"));

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Null(Header(context, "x-envoy-downstream-service-cluster"));
        Assert.Null(Header(context, "x-envoy-downstream-service-node"));
        Assert.Null(Header(context, "x-envoy-decorator-operation"));
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", Header(context, "x-request-id"));
    }

    [Fact]
    public void MutateRequestHeaders_EdgeRequestPreserveExternalRequestId_KeepsTheId()
    {
        var context = Request("134.2.2.11", ("x-request-id", "original"));

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true, preserveExternalRequestId: true), Rfc1918);

        Assert.Equal("original", Header(context, "x-request-id"));
    }

    [Fact]
    public void MutateRequestHeaders_GenerateRequestIdFalse_NeitherAddsNorReplaces()
    {
        var absent = Request("134.2.2.11");
        var present = Request("134.2.2.11", ("x-request-id", "original"));

        RequestHeaderMutation.MutateRequestHeaders(absent, Plan(useRemoteAddress: true, generateRequestId: false), Rfc1918);
        RequestHeaderMutation.MutateRequestHeaders(present, Plan(useRemoteAddress: true, generateRequestId: false), Rfc1918);

        Assert.Null(Header(absent, "x-request-id"));
        Assert.Equal("original", Header(present, "x-request-id"));
    }

    [Fact]
    public void MutateRequestHeaders_EdgeRequest_CleansEveryInternalOnlyHeader()
    {
        string[] names =
        [
            "x-envoy-hedge-on-per-try-timeout", "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on",
            "x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-alt-response",
            "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-expected-rq-timeout-ms", "x-envoy-ip-tags",
            "x-envoy-original-url", "x-envoy-force-trace", "x-envoy-internal",
        ];
        var context = Request("50.0.0.1", [.. names.Select(n => (n, "foo"))]);

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Equal("50.0.0.1", Header(context, "x-envoy-external-address"));
        Assert.All(names, name => Assert.Null(Header(context, name)));
    }

    [Fact]
    public void MutateRequestHeaders_Via_IsAppendedToTheRequest()
    {
        var context = Request("10.0.0.1", ("via", "1.1 first"));

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(via: "foo"), Rfc1918);

        Assert.Equal("1.1 first, foo", Header(context, "via"));
    }

    [Fact]
    public void MutateRequestHeaders_NoVia_AddsNone()
    {
        var context = Request("10.0.0.1");

        RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.Null(Header(context, "via"));
    }

    [Fact]
    public void MutateRequestHeaders_Ipv6Peer_IsWrittenAsIpv6()
    {
        var context = Request("2001:db8::7");

        var origin = RequestHeaderMutation.MutateRequestHeaders(context, Plan(useRemoteAddress: true), Rfc1918);

        Assert.True(origin.Edge);
        Assert.Equal("2001:db8::7", Header(context, "x-forwarded-for"));
        Assert.Equal("2001:db8::7", Header(context, "x-envoy-external-address"));
    }

    [Fact]
    public void MutateResponseHeaders_ForceTrace_EchoesTheRequestId()
    {
        var context = Request(headers: [("x-request-id", "request-id"), ("x-envoy-force-trace", "true")]);

        RequestHeaderMutation.MutateResponseHeaders(context, Plan());

        Assert.Equal("request-id", context.Response.Headers["x-request-id"].ToString());
    }

    [Fact]
    public void MutateResponseHeaders_NoForceTrace_DoesNotEcho()
    {
        var context = Request(headers: [("x-request-id", "request-id")]);

        RequestHeaderMutation.MutateResponseHeaders(context, Plan());

        Assert.False(context.Response.Headers.ContainsKey("x-request-id"));
        Assert.False(context.Response.Headers.ContainsKey("via"));
    }

    [Fact]
    public void MutateResponseHeaders_AlwaysSetRequestIdInResponseAndVia_EchoesAndAppends()
    {
        var context = Request(headers: [("x-request-id", "request-id")]);
        context.Response.Headers["via"] = "1.1 upstream";

        RequestHeaderMutation.MutateResponseHeaders(context, Plan(alwaysSetRequestIdInResponse: true, via: "foo"));

        Assert.Equal("request-id", context.Response.Headers["x-request-id"].ToString());
        Assert.Equal("1.1 upstream, foo", context.Response.Headers["via"].ToString());
    }

    // The tracing decision (mutateTracingRequestHeader); Envoy's test sampling: client 100 %, random 100 %, overall 100 %.

    private static TracingSampling Sampling(uint client = 10_000, uint random = 10_000, uint overall = 10_000)
        => new(Ten(client), Ten(random), Ten(overall));

    private static Percentage Ten(uint numerator) => Percentage.From(new FractionalPercent { Numerator = numerator, Denominator = DenominatorType.TenThousand });

    private static (TraceReason Reason, string? Id) Decide(TracingSampling sampling, ConnectionManagerPlan? plan = null, Random? random = null, params (string Name, string Value)[] headers)
    {
        var context = Request(headers: headers);
        var reason = RequestHeaderMutation.MutateTracingRequestHeader(context.Request.Headers, plan ?? Plan(), sampling, random ?? new ScriptedRandom(0));
        return (reason, Header(context, "x-request-id"));
    }

    [Fact]
    public void MutateTracingRequestHeader_ClientTraceIdAndClientSampling_IsClientForced()
    {
        var (reason, id) = Decide(Sampling(), headers: [("x-request-id", "a121e9e1-feae-4136-9e0e-6fac343d56c9"), ("x-client-trace-id", "trace-id")]);

        Assert.Equal(TraceReason.ClientForced, reason);
        Assert.Equal("a121e9e1-feae-b136-9e0e-6fac343d56c9", id);
    }

    [Fact]
    public void MutateTracingRequestHeader_ClientTraceIdClientSamplingMissed_FallsThroughToRandomSampling()
    {
        // client_sampling 50 % drawn as 9999 (miss); random_sampling 0 %: not traced.
        var (reason, id) = Decide(Sampling(client: 5_000, random: 0), random: new ScriptedRandom(9_999),
            headers: [("x-request-id", "a121e9e1-feae-4136-9e0e-6fac343d56c9"), ("x-client-trace-id", "trace-id")]);

        Assert.Equal(TraceReason.NotTraceable, reason);
        Assert.Equal("a121e9e1-feae-4136-9e0e-6fac343d56c9", id);
    }

    [Fact]
    public void MutateTracingRequestHeader_ForceTrace_IsServiceForced()
    {
        var (reason, id) = Decide(Sampling(random: 0), headers: [("x-request-id", "f4dca0a9-12c7-4307-8002-969403baf480"), ("x-envoy-force-trace", "true")]);

        Assert.Equal(TraceReason.ServiceForced, reason);
        Assert.Equal("f4dca0a9-12c7-a307-8002-969403baf480", id);
    }

    [Fact]
    public void MutateTracingRequestHeader_ClientTraceIdAndForceTrace_ClientComesFirst()
    {
        var (reason, _) = Decide(Sampling(), headers: [("x-request-id", "f4dca0a9-12c7-4307-8002-969403baf480"), ("x-envoy-force-trace", "true"), ("x-client-trace-id", "c")]);

        Assert.Equal(TraceReason.ClientForced, reason);
    }

    [Theory]
    [InlineData(0u, "NotTraceable", '4')]
    [InlineData(10_000u, "Sampling", '9')]
    public void MutateTracingRequestHeader_RandomSamplingNoneOrAll_DecidesAndPacksTheNibble(uint random, string expectedName, char nibble)
    {
        var expected = Enum.Parse<TraceReason>(expectedName);
        var (reason, id) = Decide(Sampling(random: random), headers: [("x-request-id", "a121e9e1-feae-4136-9e0e-6fac343d56c9")]);

        Assert.Equal(expected, reason);
        Assert.Equal(nibble, id![14]);
    }

    [Fact]
    public void MutateTracingRequestHeader_RandomSampling_UsesTheFirstEightHexDigitsModulo10000()
    {
        // 0x00000d05 = 3333: sampled at 33.34 % (3334 of 10000), not at 33.33 %.
        const string Id = "00000d05-0000-4000-8000-000000000000";

        Assert.Equal(TraceReason.Sampling, Decide(Sampling(random: 3_334), headers: [("x-request-id", Id)]).Reason);
        Assert.Equal(TraceReason.NotTraceable, Decide(Sampling(random: 3_333), headers: [("x-request-id", Id)]).Reason);
    }

    [Fact]
    public void MutateTracingRequestHeader_TenPercentOverEveryResidue_SamplesExactlyATenth()
    {
        var sampled = 0;
        for (var value = 0; value < 10_000; value++)
        {
            var id = value.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + "-0000-4000-8000-000000000000";
            if (Decide(Sampling(random: 1_000), headers: [("x-request-id", id)]).Reason == TraceReason.Sampling)
            {
                Assert.True(value < 1_000, $"{id} sampled");
                sampled++;
            }
        }

        Assert.Equal(1_000, sampled);
    }

    [Fact]
    public void MutateTracingRequestHeader_TenPercentOfGeneratedIds_LandsWithinTheBinomialBound()
    {
        var sampled = 0;
        for (var i = 0; i < 1_000; i++)
        {
            if (Decide(Sampling(random: 1_000), headers: [("x-request-id", UuidRequestId.Generate())]).Reason == TraceReason.Sampling)
            {
                sampled++;
            }
        }

        // Mean 100, standard deviation 9.5: six deviations either side.
        Assert.InRange(sampled, 43, 157);
    }

    [Fact]
    public void MutateTracingRequestHeader_OverallSamplingMissed_CancelsAForcedTrace()
    {
        // 0x00001388 = 5000: overall 50 % (5000 of 10000) misses.
        var (reason, id) = Decide(Sampling(overall: 5_000), headers: [("x-request-id", "00001388-0000-4000-8000-000000000000"), ("x-envoy-force-trace", "true")]);

        Assert.Equal(TraceReason.NotTraceable, reason);
        Assert.Equal("00001388-0000-4000-8000-000000000000", id);
    }

    [Theory]
    [InlineData("a121e9e1-feae-9136-9e0e-6fac343d56c9", "Sampling")]
    [InlineData("a121e9e1-feae-a136-9e0e-6fac343d56c9", "ServiceForced")]
    [InlineData("a121e9e1-feae-b136-9e0e-6fac343d56c9", "ClientForced")]
    public void MutateTracingRequestHeader_IdCarryingADecision_KeepsIt(string incoming, string expectedName)
    {
        // An earlier hop decided: random_sampling 0 % does not undo it (Envoy: "do not apply tracing transformations if we are currently tracing").
        var expected = Enum.Parse<TraceReason>(expectedName);
        var (reason, id) = Decide(Sampling(random: 0), headers: [("x-request-id", incoming)]);

        Assert.Equal(expected, reason);
        Assert.Equal(incoming, id);
    }

    [Fact]
    public void MutateTracingRequestHeader_IdCarryingADecisionOverallMissed_IsRewrittenToNotTraced()
    {
        var (reason, id) = Decide(Sampling(overall: 0), headers: [("x-request-id", "a121e9e1-feae-9136-9e0e-6fac343d56c9")]);

        Assert.Equal(TraceReason.NotTraceable, reason);
        Assert.Equal("a121e9e1-feae-4136-9e0e-6fac343d56c9", id);
    }

    [Fact]
    public void MutateTracingRequestHeader_PackTraceReasonFalse_DecidesWithoutRewriting()
    {
        var plan = Plan() with { PackTraceReason = false };

        var (reason, id) = Decide(Sampling(), plan, headers: [("x-request-id", "a121e9e1-feae-4136-9e0e-6fac343d56c9")]);

        Assert.Equal(TraceReason.Sampling, reason);
        Assert.Equal("a121e9e1-feae-4136-9e0e-6fac343d56c9", id);
    }

    [Fact]
    public void MutateTracingRequestHeader_UseRequestIdForTraceSamplingFalse_IsAlwaysSampling()
    {
        var plan = Plan() with { UseRequestIdForTraceSampling = false };

        var (reason, id) = Decide(Sampling(random: 0, overall: 0), plan, headers: [("x-request-id", "a121e9e1-feae-4136-9e0e-6fac343d56c9")]);

        Assert.Equal(TraceReason.Sampling, reason);
        Assert.Equal("a121e9e1-feae-4136-9e0e-6fac343d56c9", id);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("corrupted")]
    public void MutateTracingRequestHeader_MissingOrCorruptedId_IsNotTraced(string? requestId)
    {
        var (reason, id) = requestId is null ? Decide(Sampling(), headers: [("x-envoy-force-trace", "true")])
            : Decide(Sampling(), headers: [("x-request-id", requestId), ("x-envoy-force-trace", "true")]);

        Assert.Equal(TraceReason.NotTraceable, reason);
        Assert.Equal(requestId, id);
    }

    [Fact]
    public void MutateTracingRequestHeader_NonUuidIdSampled_IsTracedButNotRewritten()
    {
        // getInteger reads "12345678"; setTraceReason leaves an id that is not 36 characters long alone.
        var (reason, id) = Decide(Sampling(), headers: [("x-request-id", "12345678-custom")]);

        Assert.Equal(TraceReason.Sampling, reason);
        Assert.Equal("12345678-custom", id);
    }

    [Theory]
    [InlineData("Sampling", false, "Sampling", true)]
    [InlineData("ServiceForced", false, "ServiceForced", true)]
    [InlineData("ClientForced", false, "ClientForced", true)]
    [InlineData("NotTraceable", false, "NotTraceable", false)]
    [InlineData("Sampling", true, "HealthCheck", false)]
    public void ShouldTraceRequest_Reason_IsEnvoysDecision(string reason, bool healthCheck, string expected, bool traced)
        => Assert.Equal(new TracingDecision(Enum.Parse<TraceReason>(expected), traced), RequestHeaderMutation.ShouldTraceRequest(Enum.Parse<TraceReason>(reason), healthCheck));

    [Fact]
    public void MutateTracingRequestHeader_NotSampled_AllocatesNothing()
    {
        var context = Request(headers: [("x-request-id", UuidRequestId.Generate())]);
        var plan = Plan();
        var sampling = Sampling(random: 0);

        var bytes = Allocations.Measure(() => RequestHeaderMutation.MutateTracingRequestHeader(context.Request.Headers, plan, sampling, Random.Shared));

        Assert.Equal(0, bytes);
    }
}
