using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Common.Grpc;
using Gateway.Tests.Hosting;
using Grpc.Core;
using Grpc.Net.Client;
using static Gateway.Tests.Grpc.GrpcFilterTestConfig;

namespace Gateway.Tests.Grpc;

/// <summary>envoy.filters.http.grpc_stats: exact per-cluster stats of real gRPC calls (h2c both sides).</summary>
public sealed class GrpcStatsFilterTests
{
    private const string H2 = "codec_type: HTTP2";

    [Fact]
    public async Task Unary_StatsForAllMethods_SuccessFailureAndStatusCountersExact()
    {
        await using var test = await StatsCase.StartAsync("stats_for_all_methods: true");
        var client = test.Client;

        await client.UnaryAsync(new EchoRequest { Message = "a" });
        await client.UnaryAsync(new EchoRequest { Message = "b" });
        await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest { Message = "c", FailWith = (int)StatusCode.NotFound }));

        var unary = MethodStat("grpc", "Unary");
        await AssertStatsAsync(test.Gateway, unary, ("success", 2), ("failure", 1), ("total", 3), ("0", 2), ("5", 1), ("request_message_count", 3));
        // The failure is trailers-only: no response message.
        await test.Gateway.AssertStatAsync(unary + "response_message_count", 2);
        Assert.Null(await test.Gateway.StatAsync("cluster.grpc.grpc.total"));
    }

    [Fact]
    public async Task ServerStream_FiveReplies_MessageCountsExact()
    {
        await using var test = await StatsCase.StartAsync("stats_for_all_methods: true");

        using var call = test.Client.ServerStream(new EchoRequest { Message = "m", Count = 5 });
        Assert.Equal(5, (await RepliesAsync(call)).Count);
        var stream = MethodStat("grpc", "ServerStream");
        await AssertStatsAsync(test.Gateway, stream, ("response_message_count", 5), ("request_message_count", 1), ("success", 1), ("total", 1));
    }

    [Fact]
    public async Task ClientStream_FourMessages_RequestMessageCountExact()
    {
        await using var test = await StatsCase.StartAsync("stats_for_all_methods: true");

        using var call = test.Client.ClientStream();
        for (var i = 0; i < 4; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = "c" + i });
        }
        await call.RequestStream.CompleteAsync();
        await call;

        var stream = MethodStat("grpc", "ClientStream");
        await AssertStatsAsync(test.Gateway, stream, ("request_message_count", 4), ("response_message_count", 1), ("success", 1));
    }

    [Fact]
    public async Task Unary_NoSpecifier_CountedWithoutServiceAndMethod()
    {
        await using var test = await StatsCase.StartAsync("enable_upstream_stats: true");

        await test.Client.UnaryAsync(new EchoRequest { Message = "x" });

        // Envoy's default (stats_for_all_methods false): cluster.<name>.grpc.* only.
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.success", 1);
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.total", 1);
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.0", 1);
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.request_message_count", 1);
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.response_message_count", 1);
        Assert.Null(await test.Gateway.StatAsync(MethodStat("grpc", "Unary") + "total"));
    }

    [Fact]
    public async Task Allowlist_ListedAndUnlistedMethods_OnlyListedGetsItsOwnStats()
    {
        await using var test = await StatsCase.StartAsync("""
            individual_method_stats_allowlist:
                  services: [{ name: gateway.tests.echo.Echo, method_names: [Unary] }]
            """);
        var client = test.Client;

        await client.UnaryAsync(new EchoRequest { Message = "listed" });
        using var call = client.ServerStream(new EchoRequest { Message = "unlisted", Count = 2 });
        await RepliesAsync(call);

        await test.Gateway.AssertStatAsync(MethodStat("grpc", "Unary") + "success", 1);
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.success", 1);
        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.response_message_count", 2);
        Assert.Null(await test.Gateway.StatAsync(MethodStat("grpc", "ServerStream") + "total"));
    }

    [Fact]
    public async Task Unary_ReplaceDots_ServiceDotsBecomeUnderscores()
    {
        await using var test = await StatsCase.StartAsync("""
            stats_for_all_methods: true
                replace_dots_in_grpc_service_name: true
            """);

        await test.Client.UnaryAsync(new EchoRequest { Message = "d" });

        await test.Gateway.AssertStatAsync("cluster.grpc.grpc.gateway_tests_echo_Echo.Unary.success", 1);
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

    /// <summary>The echo server behind a gateway with grpc_stats (<paramref name="fields"/>), h2c on both sides.</summary>
    private sealed class StatsCase : IAsyncDisposable
    {
        private GrpcEchoUpstream _upstream = null!;
        private GrpcChannel _channel = null!;

        public InProcessGateway Gateway { get; private set; } = null!;

        public Echo.EchoClient Client { get; private set; } = null!;

        public static async Task<StatsCase> StartAsync(string fields)
        {
            var test = new StatsCase { _upstream = await GrpcEchoUpstream.StartAsync() };
            test.Gateway = await GrpcFilterTestConfig.StartAsync(test._upstream, StatsFilter(fields), H2);
            test._channel = GrpcGatewayYaml.Channel(test.Gateway);
            test.Client = new Echo.EchoClient(test._channel);
            return test;
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            await Gateway.DisposeAsync();
            await _upstream.DisposeAsync();
        }
    }
}
