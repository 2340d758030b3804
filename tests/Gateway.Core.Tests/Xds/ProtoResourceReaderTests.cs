using Gateway.Admin;
using Gateway.Configuration;
using Gateway.Xds;
using Google.Protobuf;

namespace Gateway.Tests.Xds;

/// <summary>
/// Protobuf resources read into the loader's tree: the same model (and so the same validation) as the same resource in
/// YAML, and a clear error, never a crash, for what the gateway cannot read.
/// </summary>
public sealed class ProtoResourceReaderTests
{
    private static readonly EnvoyTypeRegistry Types = EnvoyTypeRegistry.CreateDefault();

    private const string Cluster = """
        { "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "backend", "type": "STRICT_DNS", "connect_timeout": "1.5s",
          "lb_policy": "LEAST_REQUEST", "dns_lookup_family": "V4_ONLY", "dns_refresh_rate": "10s",
          "circuit_breakers": { "thresholds": [ { "priority": "HIGH", "max_connections": 7, "max_retries": 2 } ] },
          "outlier_detection": { "consecutive_5xx": 3, "interval": "0.25s", "max_ejection_percent": 50 },
          "metadata": { "filter_metadata": { "envoy.lb": { "canary": true, "version": "v2", "weight": 1.5 } } },
          "load_assignment": { "cluster_name": "backend", "endpoints": [ { "locality": { "zone": "z1" }, "priority": 1,
            "lb_endpoints": [ { "endpoint": { "address": { "socket_address": { "address": "localhost", "port_value": 8080 } } }, "load_balancing_weight": 3 } ] } ] } }
        """;

    private const string Listener = """
        { "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "main",
          "address": { "socket_address": { "address": "127.0.0.1", "port_value": 10000 } },
          "filter_chains": [ { "filters": [ { "name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "ingress", "codec_type": "AUTO", "use_remote_address": true, "xff_num_trusted_hops": 1,
            "route_config": { "name": "local", "virtual_hosts": [ { "name": "all", "domains": ["*", "a.example"],
              "routes": [ { "match": { "prefix": "/api", "headers": [ { "name": "x-canary", "string_match": { "exact": "1" } } ] },
                            "route": { "cluster": "backend", "timeout": "3s", "retry_policy": { "retry_on": "5xx", "num_retries": 2 } } } ] } ] },
            "http_filters": [ { "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } } ] } } ] } ] }
        """;

    /// <summary>The resource bound from protobuf and from its JSON text, each printed as <c>/config_dump</c> prints it.</summary>
    private static (string FromWire, string FromText) BothWays(string json)
    {
        var any = ProtoResourceWriter.Pack(json);
        var wireErrors = new ConfigErrorList(["cds"]);
        var root = ProtoResourceReader.ReadResponse("v1", any.TypeUrl, [(any.TypeUrl, any.Value.Memory)], Types, "cds", wireErrors);
        var fromWire = new DiscoveryResponse();
        new ConfigBinder("cds", Types, wireErrors).BindRoot(root, fromWire);
        Assert.Equal(0, wireErrors.Count);

        var textErrors = new ConfigErrorList(["text"]);
        var text = $$"""{ "version_info": "v1", "type_url": "{{any.TypeUrl}}", "resources": [ {{json}} ] }""";
        var fromText = new DiscoveryResponse();
        new ConfigBinder("text", Types, textErrors).BindRoot(ConfigTreeReader.Read(text, "text", textErrors)!, fromText);
        Assert.Equal(0, textErrors.Count);
        return (ConfigJson.Message(Assert.Single(fromWire.Resources)).ToPrettyString(), ConfigJson.Message(Assert.Single(fromText.Resources)).ToPrettyString());
    }

    [Theory]
    [InlineData(Cluster)]
    [InlineData(Listener)]
    public void ReadResponse_Resource_BindsAsTheSameResourceInText(string json)
    {
        var (fromWire, fromText) = BothWays(json);

        Assert.Equal(fromText, fromWire);
        Assert.Contains("\"name\"", fromWire, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadResponse_UnknownFieldNumber_IsAnErrorNamingTheNumberAndPath()
    {
        var bytes = Encode(output =>
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteString("backend");
            output.WriteTag(999, WireFormat.WireType.Varint);
            output.WriteInt32(5);
        });

        var errors = Read("type.googleapis.com/envoy.config.cluster.v3.Cluster", bytes);

        var error = Assert.Single(errors);
        Assert.Equal("envoy.config.cluster.v3.Cluster field number 999 is not supported by this gateway", error.Message);
        Assert.Equal("resources[0]", error.Location.Path);
        Assert.Equal("cds", error.Location.Source);
    }

    [Fact]
    public void ReadResponse_TruncatedMessage_IsAnErrorNotACrash()
    {
        var bytes = Encode(output =>
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteLength(50);
            output.WriteRawTag((byte)'a');
        });

        var error = Assert.Single(Read("type.googleapis.com/envoy.config.cluster.v3.Cluster", bytes));

        Assert.StartsWith("the type.googleapis.com/envoy.config.cluster.v3.Cluster resource could not be decoded: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadResponse_StringThatIsNotUtf8_IsAnError()
    {
        var bytes = Encode(output =>
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(0xC3, 0x28));
        });

        var error = Assert.Single(Read("type.googleapis.com/envoy.config.cluster.v3.Cluster", bytes));

        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadResponse_WrongWireTypeForAField_IsAnError()
    {
        // name (a string) sent as a varint.
        var bytes = Encode(output =>
        {
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteInt32(1);
        });

        var error = Assert.Single(Read("type.googleapis.com/envoy.config.cluster.v3.Cluster", bytes));

        Assert.Contains("field 'name' came with wire type 0", error.Message, StringComparison.Ordinal);
    }

    private static List<ConfigError> Read(string typeUrl, byte[] bytes)
    {
        var errors = new ConfigErrorList(["cds"]);
        var root = ProtoResourceReader.ReadResponse("v1", typeUrl, [(typeUrl, bytes)], Types, "cds", errors);
        new ConfigBinder("cds", Types, errors).BindRoot(root, new DiscoveryResponse());
        return [.. errors.ToException().Errors];
    }

    private static byte[] Encode(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }
}
