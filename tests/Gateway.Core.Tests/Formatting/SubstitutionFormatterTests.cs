using System.Text;
using System.Text.Json.Nodes;
using Gateway.Clusters;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Formatting;
using Gateway.Listeners;
using Gateway.Stats;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Tests.Formatting;

public sealed class SubstitutionFormatterTests
{
    private readonly FormatterFixture _f = new();

    private static ClusterRuntime Cluster(string name, EnvoyMetadata? metadata = null)
        => new(name, new ClusterStats(new StatsStore(), name))
        {
            Plan = new ClusterPlan(name, DiscoveryType.Static, LbPolicy.RoundRobin, TimeSpan.FromSeconds(5), DnsLookupFamily.Auto, TimeSpan.FromSeconds(5), []) { Metadata = metadata },
        };

    private static EnvoyMetadata Metadata(string json) => EnvoyMetadata.Create(JsonNode.Parse(json)!.AsObject().Select(p => KeyValuePair.Create(p.Key, p.Value!.AsObject())).ToList());

    private void Proxied200()
    {
        _f.Http.Request.Headers["user-agent"] = "curl/8";
        _f.Http.Request.Headers["x-request-id"] = "abc";
        _f.Http.Response.StatusCode = 200;
        _f.Http.Response.Headers["x-envoy-upstream-service-time"] = "3";
        var cluster = Cluster("backend");
        _f.Info.UpstreamCluster = cluster;
        _f.Info.Host = cluster.Host("10.1.1.1:8080");
        _f.Time.Advance(TimeSpan.FromMilliseconds(5.7));
        _f.Info.Complete();
    }

    [Fact]
    public void Format_DefaultFormatForProxied200_IsEnvoysLine()
    {
        Proxied200();

        var line = _f.Format(SubstitutionFormatter.DefaultFormat);

        Assert.Equal("[2018-04-03T23:06:09.123Z] \"GET /hello?a=1 HTTP/1.1\" 200 - 0 0 5 3 \"-\" \"curl/8\" \"abc\" \"example.com\" \"10.1.1.1:8080\"\n", line);
    }

    [Fact]
    public void DefaultFormat_IsEnvoysDefaultFormat()
        => Assert.Equal(
            "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n",
            SubstitutionFormatter.DefaultFormat);

    [Fact]
    public void Format_DefaultFormatWithoutRequest_PrintsDashesAndZeros()
    {
        var formatter = _f.Text(SubstitutionFormatter.DefaultFormat);

        var line = formatter.Format(new FormatterContext(null, null, AccessLogType.TcpConnectionEnd));

        Assert.Equal("[-] \"- - -\" 0 - 0 0 - - \"-\" \"-\" \"-\" \"-\" \"-\"\n", line);
    }

    [Fact]
    public void Format_RequestHeaders_MainThenAlternativeAndPseudoHeaders()
    {
        _f.Http.Request.Headers["x-envoy-original-path"] = "/original";
        _f.Http.Request.Headers["X-Second"] = "two";

        Assert.Equal("/original|/hello?a=1|two|GET|example.com|http|-", _f.Format("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%|%REQ(:PATH)%|%REQ(x-missing?X-SECOND)%|%REQ(:method)%|%REQ(:AUTHORITY)%|%REQ(:scheme)%|%REQ(x-missing)%"));
    }

    [Fact]
    public void Format_RepeatedHeader_PrintsTheFirstValue()
    {
        _f.Http.Request.Headers.Append("x-multi", "one");
        _f.Http.Request.Headers.Append("x-multi", "two");

        Assert.Equal("one", _f.Format("%REQ(x-multi)%"));
    }

    [Fact]
    public void Format_ResponseHeadersAndTrailers_AreRead()
    {
        _f.Http.Response.Headers["x-resp"] = "r";
        var trailers = new HeaderDictionary { ["grpc-message"] = "done" };
        _f.Http.Features.Set<IHttpResponseTrailersFeature>(new TrailersFeature(trailers));
        _f.Http.Response.StatusCode = 201;
        _f.Info.Complete();

        Assert.Equal("r|done|201|-|-", _f.Format("%RESP(X-RESP)%|%TRAILER(grpc-message)%|%RESP(:status)%|%RESP(x-none)%|%TRAILER(x-none)%"));
    }

    [Fact]
    public void Format_MaxLength_TruncatesTheValue()
    {
        _f.Http.Request.Headers["user-agent"] = "curl/8.4.0";

        Assert.Equal("curl|curl/8.4.0|-", _f.Format("%REQ(USER-AGENT):4%|%REQ(USER-AGENT):40%|%REQ(x-none):2%"));
    }

    [Fact]
    public void Format_PercentEscape_IsALiteralPercent()
        => Assert.Equal("100% GET %", _f.Format("100%% %REQ(:METHOD)% %%"));

    [Fact]
    public void Format_OmitEmptyValues_PrintsNothingForMissingValues()
    {
        var formatter = _f.Yaml("text_format_source:\n  inline_string: \"[%REQ(x-none)%][%REQ(:METHOD)%]\"\nomit_empty_values: true\n");

        Assert.Equal("[][GET]", formatter.Format(_f.Context()));
    }

    [Fact]
    public void Format_ResponseCodeAndFlags_ShortAndLongInEnvoysOrder()
    {
        _f.Http.Response.StatusCode = 503;
        _f.Info.Complete();
        _f.Info.SetResponseFlag(ResponseFlags.UpstreamRetryLimitExceeded);
        _f.Info.SetResponseFlag(ResponseFlags.UpstreamConnectionFailure);
        _f.Info.SetResponseFlag(ResponseFlags.NoHealthyUpstream);

        Assert.Equal("503 UH,UF,URX NoHealthyUpstream,UpstreamConnectionFailure,UpstreamRetryLimitExceeded", _f.Format("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%"));
    }

    [Fact]
    public void Format_EveryResponseFlag_HasEnvoysNames()
    {
        var all = ResponseFlags.None;
        foreach (var flag in Enum.GetValues<ResponseFlags>())
        {
            all |= flag;
        }
        var output = new StringBuilder();

        ResponseFlagNames.Append(all, longNames: false, output);

        Assert.Equal("LH,UH,UT,LR,UR,UF,UC,UO,NR,DI,FI,RL,UAEX,RLSE,DC,URX,SI,IH,DPE,UMSDR,RFCF,NFCF,DT,UPE,NC,OM,DF,DO,DR,UDO", output.ToString());
        Assert.Equal(Enum.GetValues<ResponseFlags>().Length - 1, ResponseFlagNames.Long.Length);
        Assert.Equal(ResponseFlagNames.Short.Length, ResponseFlagNames.Long.Length);
    }

    [Fact]
    public void Format_ResponseCodeBeforeTheResponse_IsZeroAndNoFlagsIsDash()
        => Assert.Equal("0 -", _f.Format("%RESPONSE_CODE% %RESPONSE_FLAGS%"));

    [Fact]
    public void Format_ResponseCodeDetails_SpacesBecomeUnderscoresUnlessAllowed()
    {
        _f.Info.Details = "upstream reset before headers";

        Assert.Equal("upstream_reset_before_headers|upstream reset before headers", _f.Format("%RESPONSE_CODE_DETAILS%|%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%"));
    }

    [Fact]
    public void Format_ResponseCodeDetailsMissing_IsDash()
        => Assert.Equal("-", _f.Format("%RESPONSE_CODE_DETAILS%"));

    [Fact]
    public void Format_Durations_AreWholeMillisecondsFromTheStart()
    {
        _f.Time.Advance(TimeSpan.FromMilliseconds(2));
        _f.Info.OnLastDownstreamRxByteReceived();
        _f.Time.Advance(TimeSpan.FromMilliseconds(1));
        _f.Info.OnUpstreamTxStarted();
        _f.Time.Advance(TimeSpan.FromMilliseconds(10.9));
        _f.Info.OnFirstUpstreamRxByteReceived();
        _f.Info.OnFirstDownstreamTxByteSent();
        _f.Time.Advance(TimeSpan.FromMilliseconds(4));
        _f.Info.OnLastUpstreamRxByteReceived();
        _f.Info.Complete();

        Assert.Equal("17 2 3 13 4", _f.Format("%DURATION% %REQUEST_DURATION% %REQUEST_TX_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION%"));
        Assert.Equal("13|13900|13900000|4", _f.Format("%COMMON_DURATION(DS_RX_BEG:US_RX_BEG)%|%COMMON_DURATION(DS_RX_BEG:US_RX_BEG:us)%|%COMMON_DURATION(DS_RX_BEG:US_RX_BEG:ns)%|%COMMON_DURATION(US_RX_BEG:DS_TX_END:ms)%"));
    }

    [Fact]
    public void Format_DurationsThatDidNotHappen_AreDashes()
        => Assert.Equal("- - - - -", _f.Format("%REQUEST_DURATION% %REQUEST_TX_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION% %COMMON_DURATION(DS_RX_BEG:US_RX_END)%"));

    [Fact]
    public void Format_DurationBeforeTheEnd_IsTheTimeSoFar()
    {
        // Envoy's %DURATION% is StreamInfo::currentDuration: a DownstreamStart or periodic entry prints the time so far.
        _f.Time.Advance(TimeSpan.FromMilliseconds(7));

        Assert.Equal("7 -", _f.Format("%DURATION% %RESPONSE_TX_DURATION%"));
    }

    [Fact]
    public void Format_BytesAndAttempts_AreTheStreamInfosCounts()
    {
        _f.Info.BytesReceived = 12;
        _f.Info.BytesSent = 345;
        _f.Info.AttemptCount = 2;

        Assert.Equal("12 345 2", _f.Format("%BYTES_RECEIVED% %BYTES_SENT% %UPSTREAM_REQUEST_ATTEMPT_COUNT%"));
    }

    [Fact]
    public void NeedsBodyBytes_OnlyWhenABytesOperatorIsUsed()
    {
        Assert.True(_f.Text("%BYTES_SENT%").NeedsBodyBytes);
        Assert.True(_f.Text("%BYTES_RECEIVED:3%".Replace(":3", string.Empty)).NeedsBodyBytes);
        Assert.False(_f.Text("%RESPONSE_CODE% %REQ(:PATH)%").NeedsBodyBytes);
        Assert.True(_f.Yaml("json_format:\n  nested:\n    sent: \"%BYTES_SENT%\"\n").NeedsBodyBytes);
        Assert.False(_f.Yaml("json_format:\n  code: \"%RESPONSE_CODE%\"\n").NeedsBodyBytes);
    }

    [Fact]
    public void Format_Protocol_IsTheDownstreamProtocol()
    {
        _f.Http.Request.Protocol = "HTTP/2";

        Assert.Equal("HTTP/2", _f.Format("%PROTOCOL%"));
    }

    [Fact]
    public void Format_UpstreamOperators_ReadHostAndCluster()
    {
        var cluster = Cluster("backend");
        _f.Info.UpstreamCluster = cluster;
        _f.Info.Host = cluster.Host("10.1.1.1:8080");
        _f.Info.UpstreamTransportFailureReason = "delayed connect error: 111";

        Assert.Equal(
            "10.1.1.1:8080|10.1.1.1:8080|10.1.1.1|backend|backend|10.1.1.1:8080|10.1.1.1|8080|delayed_connect_error:_111",
            _f.Format("%UPSTREAM_HOST%|%UPSTREAM_HOST_NAME%|%UPSTREAM_HOST_NAME_WITHOUT_PORT%|%UPSTREAM_CLUSTER%|%UPSTREAM_CLUSTER_RAW%|%UPSTREAM_REMOTE_ADDRESS%|%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%UPSTREAM_REMOTE_PORT%|%UPSTREAM_TRANSPORT_FAILURE_REASON%"));
    }

    [Fact]
    public void Format_UpstreamOperatorsWithoutUpstream_AreDashes()
        => Assert.Equal("-|-|-|-|-|-|-|-", _f.Format("%UPSTREAM_HOST%|%UPSTREAM_HOST_NAME%|%UPSTREAM_CLUSTER%|%UPSTREAM_CLUSTER_RAW%|%UPSTREAM_REMOTE_ADDRESS%|%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%UPSTREAM_REMOTE_PORT%|%UPSTREAM_TRANSPORT_FAILURE_REASON%"));

    [Fact]
    public void Format_UpstreamIpv6Host_StripsBracketsWithoutPort()
    {
        _f.Info.Host = Cluster("v6").Host("[::1]:9000");

        Assert.Equal("[::1]:9000|::1|9000|[::1]", _f.Format("%UPSTREAM_HOST%|%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%UPSTREAM_REMOTE_PORT%|%UPSTREAM_HOST_NAME_WITHOUT_PORT%"));
    }

    [Fact]
    public void Format_DownstreamAddresses_WithAndWithoutPort()
        => Assert.Equal(
            "10.0.0.1:51000|10.0.0.1|51000|10.0.0.1:51000|127.0.0.1:10000|127.0.0.1|10000|127.0.0.1:10000",
            _f.Format("%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_REMOTE_PORT%|%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%|%DOWNSTREAM_LOCAL_ADDRESS%|%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_LOCAL_PORT%|%DOWNSTREAM_DIRECT_LOCAL_ADDRESS%"));

    [Fact]
    public void Format_DownstreamIpv6Address_IsBracketedWithPort()
    {
        _f.Http.Connection.RemoteIpAddress = System.Net.IPAddress.IPv6Loopback;

        Assert.Equal("[::1]:51000|::1", _f.Format("%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"));
    }

    [Fact]
    public void Format_WithoutConnection_AddressesAreDashes()
    {
        var formatter = _f.Text("%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_LOCAL_PORT%|%REQUESTED_SERVER_NAME%");

        Assert.Equal("-|-|-", formatter.Format(new FormatterContext(null, null)));
    }

    [Fact]
    public void Format_RequestedServerNameWithoutTls_IsDash()
        => Assert.Equal("-", _f.Format("%REQUESTED_SERVER_NAME%"));

    [Fact]
    public void Format_RouteName_IsTheRoutesNameOrDash()
    {
        Assert.Equal("-", _f.Format("%ROUTE_NAME%"));
        _f.Info.Route = new RouteRuntime(new RoutePlan("vh", 0, "r1", "backend", TimeSpan.Zero, HostRewriteMode.None, null, null, null, null), null, null);

        Assert.Equal("r1", _f.Format("%ROUTE_NAME%"));
    }

    [Fact]
    public void Format_DynamicMetadata_ValueNamespaceAndMissing()
    {
        var ns = _f.Info.DynamicMetadata("com.test");
        ns["key"] = "value";
        ns["n"] = 10;
        ns["obj"] = new JsonObject { ["inner"] = "x" };

        Assert.Equal(
            "value|10|{\"inner\":\"x\"}|x|{\"key\":\"value\",\"n\":10,\"obj\":{\"inner\":\"x\"}}|-|-|va",
            _f.Format("%DYNAMIC_METADATA(com.test:key)%|%DYNAMIC_METADATA(com.test:n)%|%DYNAMIC_METADATA(com.test:obj)%|%DYNAMIC_METADATA(com.test:obj:inner)%|%DYNAMIC_METADATA(com.test)%|%DYNAMIC_METADATA(com.test:none)%|%DYNAMIC_METADATA(other:key)%|%DYNAMIC_METADATA(com.test:key):2%"));
    }

    [Fact]
    public void Format_ClusterAndUpstreamMetadata_AreRead()
    {
        var cluster = Cluster("backend", Metadata("{\"envoy.lb\":{\"zone\":\"z1\"}}"));
        _f.Info.UpstreamCluster = cluster;
        _f.Info.Host = cluster.Host("10.1.1.1:80");
        _f.Info.Host.Metadata = Metadata("{\"envoy.lb\":{\"canary\":true}}");

        Assert.Equal("z1|true|-|-", _f.Format("%CLUSTER_METADATA(envoy.lb:zone)%|%UPSTREAM_METADATA(envoy.lb:canary)%|%CLUSTER_METADATA(envoy.lb:canary)%|%UPSTREAM_METADATA(none:x)%"));
    }

    [Fact]
    public void Format_Environment_ReadAtCompileTimeAndTruncated()
    {
        Environment.SetEnvironmentVariable("GATEWAY_FORMATTER_TEST", "production");

        Assert.Equal("production|prod|-", _f.Format("%ENVIRONMENT(GATEWAY_FORMATTER_TEST)%|%ENVIRONMENT(GATEWAY_FORMATTER_TEST):4%|%ENVIRONMENT(GATEWAY_FORMATTER_TEST_UNSET)%"));
    }

    [Fact]
    public void Format_Hostname_IsTheConfiguredHostName()
        => Assert.Equal("gw-host", _f.Format("%HOSTNAME%"));

    [Fact]
    public void Format_HostnameByDefault_IsTheMachinesName()
        => Assert.Equal(System.Net.Dns.GetHostName(), SubstitutionFormatter.CompileOrThrow("%HOSTNAME%").Format(_f.Context()));

    [Fact]
    public void Format_LocalReplyBodyAndAccessLogType_AreFromTheContext()
    {
        var formatter = _f.Text("%LOCAL_REPLY_BODY%|%ACCESS_LOG_TYPE%");

        Assert.Equal("no healthy upstream|DownstreamEnd", formatter.Format(_f.Context(AccessLogType.DownstreamEnd, "no healthy upstream")));
        Assert.Equal("|UpstreamEnd", formatter.Format(_f.Context(AccessLogType.UpstreamEnd)));
        Assert.Equal("|NotSet", formatter.Format(new FormatterContext(null, null)));
    }

    [Fact]
    public void Format_UniqueId_IsANewVersion4UuidEachTime()
    {
        var formatter = _f.Text("%UNIQUE_ID%");

        var first = formatter.Format(_f.Context());
        var second = formatter.Format(_f.Context());

        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", first);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Format_StreamId_IsTheRequestId()
    {
        Assert.Equal("-", _f.Format("%STREAM_ID%"));
        _f.Http.Request.Headers["x-request-id"] = "4f7b-id";

        Assert.Equal("4f7b-id", _f.Format("%STREAM_ID%"));
    }

    [Fact]
    public void Format_TraceIdWithoutSpan_IsDash()
        => Assert.Equal("-", _f.Format("%TRACE_ID%"));

    [Fact]
    public void Format_HeadersBytes_CountNamesAndValues()
    {
        _f.Http.Request.Headers["ab"] = "cd";
        _f.Http.Response.Headers["x"] = "yz";
        _f.Http.Response.StatusCode = 200;
        _f.Info.Complete();

        // :method GET, :scheme http, :path /hello?a=1, :authority example.com (no Host header in the map), ab cd.
        var request = 7 + 3 + 7 + 4 + 5 + 10 + 10 + 11 + 2 + 2;
        Assert.Equal($"{request}|{1 + 2 + 7 + 3}|0", _f.Format("%REQUEST_HEADERS_BYTES%|%RESPONSE_HEADERS_BYTES%|%RESPONSE_TRAILERS_BYTES%"));
    }

    [Fact]
    public void Format_GrpcStatus_FromTrailersHeadersOrHttpStatus()
    {
        _f.Http.Request.Headers["content-type"] = "application/grpc";
        _f.Http.Response.Headers["grpc-status"] = "5";
        _f.Http.Response.StatusCode = 200;
        _f.Info.Complete();

        Assert.Equal("NotFound|NOT_FOUND|5|5", _f.Format("%GRPC_STATUS%|%GRPC_STATUS(SNAKE_STRING)%|%GRPC_STATUS(NUMBER)%|%GRPC_STATUS_NUMBER%"));

        _f.Http.Response.Headers.Remove("grpc-status");
        _f.Http.Response.StatusCode = 503;
        Assert.Equal("Unavailable", _f.Format("%GRPC_STATUS%"));
    }

    [Fact]
    public void Format_GrpcStatusOfANonGrpcRequest_IsDash()
    {
        _f.Http.Response.Headers["grpc-status"] = "5";

        Assert.Equal("-", _f.Format("%GRPC_STATUS%"));
    }

    [Fact]
    public void Format_ReqWithoutQuery_StripsTheQueryWhenTheExtensionIsConfigured()
    {
        var formatter = _f.Yaml("""
            text_format_source:
              inline_string: "%REQ_WITHOUT_QUERY(:PATH)%|%REQ_WITHOUT_QUERY(x-none?:path):3%"
            formatters:
            - name: envoy.formatter.req_without_query
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery
            """);

        Assert.Equal("/hello|/he", formatter.Format(_f.Context()));
    }

    [Fact]
    public void Format_MetadataExtension_ReadsEachType()
    {
        _f.Info.DynamicMetadata("ns")["k"] = "dyn";
        _f.Info.Route = new RouteRuntime(new RoutePlan("vh", 0, "r1", "backend", TimeSpan.Zero, HostRewriteMode.None, null, null, null, null)
        {
            Metadata = Metadata("{\"ns\":{\"k\":\"route\"}}"),
            VirtualHostMetadata = Metadata("{\"ns\":{\"k\":\"vhost\"}}"),
        }, null, null);
        var formatter = _f.Yaml("""
            text_format: "%METADATA(DYNAMIC:ns:k)%|%METADATA(ROUTE:ns:k)%|%METADATA(VIRTUAL_HOST:ns:k)%|%METADATA(CLUSTER:ns:k)%"
            formatters:
            - name: envoy.formatter.metadata
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.formatter.metadata.v3.Metadata
            """);

        Assert.Equal("dyn|route|vhost|-", formatter.Format(_f.Context()));
    }

    [Fact]
    public void Compile_TextFormatSourceFromFileAndBytes_IsRead()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "file:%REQ(:METHOD)%");
            Assert.Equal("file:GET", _f.Yaml($"text_format_source:\n  filename: \"{file}\"\n").Format(_f.Context()));
            Assert.Equal("bytes:GET", _f.Yaml($"text_format_source:\n  inline_bytes: \"{Convert.ToBase64String(Encoding.UTF8.GetBytes("bytes:%REQ(:METHOD)%"))}\"\n").Format(_f.Context()));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ContentType_DefaultsByKindOrIsTheConfiguredOne()
    {
        Assert.Equal("text/plain", _f.Yaml("text_format: \"x\"\n").ContentType);
        Assert.Equal("application/json", _f.Yaml("json_format:\n  a: b\n").ContentType);
        Assert.Equal("text/html; charset=UTF-8", _f.Yaml("text_format: \"x\"\ncontent_type: \"text/html; charset=UTF-8\"\n").ContentType);
    }

    [Fact]
    public void Compile_NullModel_UsesTheDefaultFormat()
    {
        Proxied200();
        var context = new Gateway.Validation.ValidationContext(EnvoyTypeRegistry.CreateDefault());

        var formatter = SubstitutionFormatter.Compile(null, SubstitutionFormatter.DefaultFormat, context, _f.Options());

        Assert.Empty(context.Errors);
        Assert.StartsWith("[2018-04-03T23:06:09.123Z] \"GET /hello?a=1 HTTP/1.1\" 200", formatter!.Format(_f.Context()));
    }

    private sealed class TrailersFeature(IHeaderDictionary trailers) : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = trailers;
    }
}
