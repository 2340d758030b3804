using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Common.Grpc;
using Grpc.Core;
using static Gateway.Tests.Grpc.GrpcFilterTestConfig;

namespace Gateway.Tests.Grpc;

/// <summary>envoy.filters.http.grpc_stats: exact per-cluster stats of real gRPC calls (h2c both sides).</summary>
public sealed class GrpcStatsFilterTests
{
    private const string H2 = "codec_type: HTTP2";

    [Fact]
    public async Task Unary_StatsForAllMethods_SuccessFailureAndStatusCountersExact()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, StatsFilter("stats_for_all_methods: true"), H2);
        using var channel = GrpcGatewayYaml.Channel(gateway);
        var client = new Echo.EchoClient(channel);

        await client.UnaryAsync(new EchoRequest { Message = "a" });
        await client.UnaryAsync(new EchoRequest { Message = "b" });
        await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { Message = "c", FailWith = (int)StatusCode.NotFound }));

        var unary = MethodStat("grpc", "Unary");
        await gateway.AssertStatAsync(unary + "success", 2);
        await gateway.AssertStatAsync(unary + "failure", 1);
        await gateway.AssertStatAsync(unary + "total", 3);
        await gateway.AssertStatAsync(unary + "0", 2);
        await gateway.AssertStatAsync(unary + "5", 1);
        await gateway.AssertStatAsync(unary + "request_message_count", 3);
        // The failure is trailers-only: no response message.
        await gateway.AssertStatAsync(unary + "response_message_count", 2);
        Assert.Null(await gateway.StatAsync("cluster.grpc.grpc.total"));
    }

    [Fact]
    public async Task ServerStream_FiveReplies_MessageCountsExact()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, StatsFilter("stats_for_all_methods: true"), H2);
        using var channel = GrpcGatewayYaml.Channel(gateway);

        using var call = new Echo.EchoClient(channel).ServerStream(new EchoRequest { Message = "m", Count = 5 });
        var replies = 0;
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
            replies++;
        }

        Assert.Equal(5, replies);
        var stream = MethodStat("grpc", "ServerStream");
        await gateway.AssertStatAsync(stream + "response_message_count", 5);
        await gateway.AssertStatAsync(stream + "request_message_count", 1);
        await gateway.AssertStatAsync(stream + "success", 1);
        await gateway.AssertStatAsync(stream + "total", 1);
    }

    [Fact]
    public async Task ClientStream_FourMessages_RequestMessageCountExact()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, StatsFilter("stats_for_all_methods: true"), H2);
        using var channel = GrpcGatewayYaml.Channel(gateway);

        using var call = new Echo.EchoClient(channel).ClientStream();
        for (var i = 0; i < 4; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = "c" + i });
        }
        await call.RequestStream.CompleteAsync();
        await call;

        var stream = MethodStat("grpc", "ClientStream");
        await gateway.AssertStatAsync(stream + "request_message_count", 4);
        await gateway.AssertStatAsync(stream + "response_message_count", 1);
        await gateway.AssertStatAsync(stream + "success", 1);
    }

    [Fact]
    public async Task Unary_NoSpecifier_CountedWithoutServiceAndMethod()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, StatsFilter("enable_upstream_stats: true"), H2);
        using var channel = GrpcGatewayYaml.Channel(gateway);

        await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "x" });

        // Envoy's default (stats_for_all_methods false): cluster.<name>.grpc.* only.
        await gateway.AssertStatAsync("cluster.grpc.grpc.success", 1);
        await gateway.AssertStatAsync("cluster.grpc.grpc.total", 1);
        await gateway.AssertStatAsync("cluster.grpc.grpc.0", 1);
        await gateway.AssertStatAsync("cluster.grpc.grpc.request_message_count", 1);
        await gateway.AssertStatAsync("cluster.grpc.grpc.response_message_count", 1);
        Assert.Null(await gateway.StatAsync(MethodStat("grpc", "Unary") + "total"));
    }

    [Fact]
    public async Task Allowlist_ListedAndUnlistedMethods_OnlyListedGetsItsOwnStats()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, StatsFilter("""
            individual_method_stats_allowlist:
                  services: [{ name: gateway.tests.echo.Echo, method_names: [Unary] }]
            """), H2);
        using var channel = GrpcGatewayYaml.Channel(gateway);
        var client = new Echo.EchoClient(channel);

        await client.UnaryAsync(new EchoRequest { Message = "listed" });
        using var call = client.ServerStream(new EchoRequest { Message = "unlisted", Count = 2 });
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
        }

        await gateway.AssertStatAsync(MethodStat("grpc", "Unary") + "success", 1);
        await gateway.AssertStatAsync("cluster.grpc.grpc.success", 1);
        await gateway.AssertStatAsync("cluster.grpc.grpc.response_message_count", 2);
        Assert.Null(await gateway.StatAsync(MethodStat("grpc", "ServerStream") + "total"));
    }

    [Fact]
    public async Task Unary_ReplaceDots_ServiceDotsBecomeUnderscores()
    {
        await using var upstream = await GrpcEchoUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, StatsFilter("""
            stats_for_all_methods: true
                replace_dots_in_grpc_service_name: true
            """), H2);
        using var channel = GrpcGatewayYaml.Channel(gateway);

        await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Message = "d" });

        await gateway.AssertStatAsync("cluster.grpc.grpc.gateway_tests_echo_Echo.Unary.success", 1);
    }

    [Fact]
    public void Load_EmitFilterState_RefusedAtItsPath()
    {
        var errors = FilterTestConfig.LoadErrors(GrpcGatewayYaml.Build(1, httpFilters: StatsFilter("emit_filter_state: true")));

        var error = Assert.Single(errors);
        Assert.Contains("emit_filter_state", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("no filter state", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BothPerMethodSpecifiers_OneOfError()
    {
        var errors = FilterTestConfig.LoadErrors(GrpcGatewayYaml.Build(1, httpFilters: StatsFilter("""
            stats_for_all_methods: true
                individual_method_stats_allowlist: { services: [{ name: s, method_names: [m] }] }
            """)));

        Assert.Contains("oneof per_method_stat_specifier", Assert.Single(errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AllowlistServiceWithoutMethods_ErrorAtField()
    {
        var errors = FilterTestConfig.LoadErrors(GrpcGatewayYaml.Build(1, httpFilters: StatsFilter("individual_method_stats_allowlist: { services: [{ name: s }] }")));

        Assert.Contains("method_names", Assert.Single(errors).Message, StringComparison.Ordinal);
    }
}
