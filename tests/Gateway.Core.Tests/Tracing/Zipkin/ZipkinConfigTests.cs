using Gateway.Configuration;
using Gateway.Tracing.Zipkin;
using Gateway.Validation;

namespace Gateway.Tests.Tracing.Zipkin;

/// <summary><c>envoy.config.trace.v3.ZipkinConfig</c>: binding every field, refusing what is not supported, Envoy's validation messages.</summary>
public class ZipkinConfigTests
{
    private static (ZipkinConfig Config, List<string> Errors) Bind(string yaml, params string[] clusters)
    {
        var registry = EnvoyTypeRegistry.CreateDefault();
        var errors = new ConfigErrorList();
        var root = ConfigTreeReader.Read(yaml, "zipkin.yaml", errors);
        var config = new ZipkinConfig();
        new ConfigBinder("zipkin.yaml", registry, errors).BindRoot(root!, config);
        var context = new ValidationContext(registry);
        foreach (var cluster in clusters)
        {
            context.ClusterNames.Add(cluster);
        }
        ZipkinTracerFactory.Instance.Validate(config, context);
        var messages = context.Errors.Select(e => e.Location.Path + ": " + e.Message).ToList();
        if (errors.Count > 0)
        {
            messages.AddRange(errors.ToException().Errors.Select(e => e.Message));
        }
        return (config, messages);
    }

    [Fact]
    public void Bind_EveryField_ReadIntoTheModel()
    {
        var (config, errors) = Bind("""
            collector_cluster: zipkin
            collector_endpoint: /api/v2/spans
            trace_id_128bit: true
            shared_span_context: false
            collector_endpoint_version: HTTP_PROTO
            collector_hostname: zipkin.example
            split_spans_for_request: true
            trace_context_option: USE_B3_WITH_W3C_PROPAGATION
            """, "zipkin");

        Assert.Empty(errors);
        Assert.Equal("zipkin", config.CollectorCluster);
        Assert.Equal("/api/v2/spans", config.CollectorEndpoint);
        Assert.True(config.TraceId128Bit);
        Assert.False(config.SharedSpanContext);
        Assert.Equal(ZipkinCollectorEndpointVersion.HttpProto, config.CollectorEndpointVersion);
        Assert.Equal("zipkin.example", config.CollectorHostname);
        Assert.True(config.SplitSpansForRequest);
        Assert.Equal(ZipkinTraceContextOption.UseB3WithW3cPropagation, config.TraceContextOption);
        Assert.True(EnvoyTypeRegistry.CreateDefault().IsOfCategory(typeof(ZipkinConfig), EnvoyTypeCategory.Tracer));
    }

    [Fact]
    public void Validate_UnknownClusterNoEndpointNoVersion_EveryErrorWithEnvoysMessage()
    {
        var (_, errors) = Bind("collector_cluster: nowhere\n", "zipkin");

        Assert.Contains(errors, e => e.EndsWith("collector_cluster: envoy.tracers.zipkin: unknown cluster 'nowhere'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.EndsWith("collector_endpoint: collector_endpoint must be specified when using collector_cluster", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("collector_endpoint_version: hidden_envoy_deprecated_HTTP_JSON_V1 has been deprecated.", StringComparison.Ordinal));
        Assert.Equal(3, errors.Count);
    }

    [Theory]
    [InlineData("collector_endpoint: /x\ncollector_endpoint_version: HTTP_JSON\n", "Either collector_cluster or collector_service must be specified")]
    [InlineData("collector_cluster: zipkin\ncollector_endpoint: /x\ncollector_endpoint_version: GRPC\n", "collector_endpoint_version GRPC is not implemented; use HTTP_JSON or HTTP_PROTO")]
    public void Validate_MissingClusterOrGrpc_Refused(string yaml, string message)
        => Assert.Contains(Bind(yaml, "zipkin").Errors, e => e.EndsWith(message, StringComparison.Ordinal));

    [Fact]
    public void Bind_CollectorService_LoadsAndTheLegacyFieldsAreNotNeeded()
    {
        var (config, errors) = Bind("""
            collector_endpoint_version: HTTP_JSON
            collector_service:
              http_uri: { uri: "https://zipkin.example.com/api/v2/spans", cluster: zipkin, timeout: 2s }
              request_headers_to_add:
              - header: { key: X-Custom-Token, value: secret }
            """, "zipkin");

        Assert.Empty(errors);
        var service = config.CollectorService!;
        Assert.Equal("zipkin", service.HttpUri!.Cluster);
        Assert.Equal("https://zipkin.example.com/api/v2/spans", service.HttpUri.Uri);
        Assert.Equal(TimeSpan.FromSeconds(2), service.HttpUri.Timeout);
        Assert.Equal("X-Custom-Token", Assert.Single(service.RequestHeadersToAdd).Header!.Key);
    }

    [Fact]
    public void Validate_CollectorServiceWithLegacyFields_TheServiceWinsAndTheLegacyFieldsAreNotChecked()
    {
        // An unknown legacy cluster without an endpoint would be two errors; with the service they are not read.
        var (_, errors) = Bind("""
            collector_cluster: nowhere
            collector_endpoint_version: HTTP_PROTO
            collector_service: { http_uri: { uri: /api/v2/spans, cluster: zipkin, timeout: 1s } }
            """, "zipkin");

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_BadCollectorService_EveryErrorAtItsField()
    {
        var (_, errors) = Bind("""
            collector_endpoint_version: HTTP_JSON
            collector_service:
              http_uri: { uri: "", cluster: nowhere }
              request_headers_to_add:
              - header: { key: "bad key", value: v }
            """, "zipkin");

        Assert.Equal(
        [
            "collector_service.http_uri.uri: 'uri' is required",
            "collector_service.http_uri.cluster: envoy.tracers.zipkin: unknown cluster 'nowhere'",
            "collector_service.http_uri.timeout: 'timeout' is required",
            "collector_service.request_headers_to_add[0].header.key: 'bad key' is not a valid header name",
        ], errors);
    }

    [Theory]
    [InlineData("https://zipkin.example.com/api/v2/spans", "zipkin.example.com", "/api/v2/spans")]
    [InlineData("http://zipkin:9411/api/v2/spans?x=1", "zipkin:9411", "/api/v2/spans?x=1")]
    [InlineData("http://zipkin.example.com", "zipkin.example.com", "/")]
    [InlineData("/api/v2/spans", "", "/api/v2/spans")]
    [InlineData("zipkin:9411/api/v2/spans", "", "zipkin:9411/api/v2/spans")]
    public void SplitUri_FullOrPathOnly_AsEnvoysParseUri(string uri, string host, string path)
        => Assert.Equal((host, path), ZipkinTracerFactory.SplitUri(uri));

    [Fact]
    public void Create_CollectorService_PathOnlyUriUsesTheClusterNameAsHost()
    {
        var (config, _) = Bind("""
            collector_endpoint_version: HTTP_JSON
            collector_service:
              http_uri: { uri: /api/v2/spans, cluster: zipkin, timeout: 1s }
              request_headers_to_add: [ { header: { key: X-Token, value: t } } ]
            """, "zipkin");

        var (cluster, host, endpoint, headers) = ZipkinTracerFactory.Collector(config);

        Assert.Equal(("zipkin", "zipkin", "/api/v2/spans"), (cluster, host, endpoint));
        Assert.Equal(new KeyValuePair<string, string>("x-token", "t"), Assert.Single(headers));
    }
}
