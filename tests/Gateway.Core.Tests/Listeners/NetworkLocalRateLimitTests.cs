using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Listeners;

/// <summary>
/// <c>envoy.filters.network.local_ratelimit</c> before a chain's terminal filter, over real sockets on a fake clock: each
/// connection takes a token, a connection finding none is closed before anything is read and counted, the bucket
/// refills per <c>fill_interval</c>, and filters run in the chain's order (a rate-limited connection never reaches a
/// connection_limit after it).
/// </summary>
public sealed class NetworkLocalRateLimitTests
{
    private const string RateLimit = """
        - name: envoy.filters.network.local_ratelimit
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit
            stat_prefix: per_listener
            token_bucket: { max_tokens: 2, tokens_per_fill: 1, fill_interval: 10s }
        """;

    private const string ConnectionLimit = """
        - name: envoy.filters.network.connection_limit
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit
            stat_prefix: limited
            max_connections: 10
        """;

    private static string Yaml(int upstreamPort, string filters) => ConnectionLimitTests.ChainWith(upstreamPort, filters);

    [Fact]
    public async Task Connections_BeyondTheBucket_ClosedCountedAndRefilledPerInterval()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(Yaml(upstream.Port, RateLimit + "\n" + ConnectionLimit), services => services.AddSingleton<TimeProvider>(time));
        var port = gateway.ListenerUri("/").Port;

        await using var first = await RawConnection.OpenAsync(port);
        await using var second = await RawConnection.OpenAsync(port);
        Assert.Equal(200, (await first.SendAsync("/one")).Status);
        Assert.Equal(200, (await second.SendAsync("/two")).Status);
        using var third = new TcpClient();
        await third.ConnectAsync(IPAddress.Loopback, port);

        Assert.True(await ReadsEndAsync(third));
        Assert.Equal(2, upstream.Requests);
        await gateway.AssertStatAsync("local_rate_limit.per_listener.rate_limited", 1);
        // The refused connection never reached the connection_limit after the rate limit.
        await gateway.AssertStatAsync("connection_limit.limited.active_connections", 2);

        time.Advance(TimeSpan.FromSeconds(10));
        await using var afterFill = await RawConnection.OpenAsync(port);
        Assert.Equal(200, (await afterFill.SendAsync("/three")).Status);
        using var beyond = new TcpClient();
        await beyond.ConnectAsync(IPAddress.Loopback, port);
        Assert.True(await ReadsEndAsync(beyond));
        await gateway.AssertStatAsync("local_rate_limit.per_listener.rate_limited", 2);
    }

    [Fact]
    public async Task Connection_RateLimited_ListenerAccessLogShowsUrx()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var upstream = await EchoUpstream.StartAsync();
        using var log = new TempLogFile();
        var yaml = ListenerYaml.WithListenerFields(Yaml(upstream.Port, RateLimit.Replace("max_tokens: 2", "max_tokens: 1", StringComparison.Ordinal)), $$"""
            access_log:
            - name: envoy.access_loggers.file
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                path: {{log.Path}}
                log_format: { text_format: "cx %RESPONSE_FLAGS%\n" }
            """);
        await using var gateway = await InProcessGateway.StartAsync(yaml, services => services.AddSingleton<TimeProvider>(time));
        var port = gateway.ListenerUri("/").Port;

        await using (var admitted = await RawConnection.OpenAsync(port))
        {
            Assert.Equal(200, (await admitted.SendAsync("/")).Status);
        }
        using var refused = new TcpClient();
        await refused.ConnectAsync(IPAddress.Loopback, port);
        Assert.True(await ReadsEndAsync(refused));

        var lines = await AccessLogLines.ReadAsync(gateway, log.Path, 2);
        Assert.Contains("cx URX", lines);
        Assert.Contains("cx -", lines);
    }

    [Theory]
    [InlineData("shared", "shared", false)]
    [InlineData("shared", "other", true)]
    public async Task ShareKey_TwoListeners_OneBucketForTheSameKey(string firstKey, string secondKey, bool separateBuckets)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var upstream = await EchoUpstream.StartAsync();
        var limit = RateLimit.Replace("max_tokens: 2", "max_tokens: 1", StringComparison.Ordinal);
        var yaml = Yaml(upstream.Port, limit.Replace("stat_prefix: per_listener", "stat_prefix: first\n    share_key: " + firstKey, StringComparison.Ordinal));
        // A second listener, its chain the first one's with its own stat prefix and key.
        yaml = ListenerYaml.WithSecondListener(yaml, second => second
            .Replace("stat_prefix: first", "stat_prefix: second", StringComparison.Ordinal)
            .Replace("share_key: " + firstKey, "share_key: " + secondKey, StringComparison.Ordinal)
            .Replace("stat_prefix: ingress_http", "stat_prefix: second_http", StringComparison.Ordinal));
        await using var gateway = await InProcessGateway.StartAsync(yaml, services => services.AddSingleton<TimeProvider>(time));

        await using var first = await RawConnection.OpenAsync(gateway.ListenerUri("/").Port);
        Assert.Equal(200, (await first.SendAsync("/")).Status);
        var secondPort = gateway.ListenerUri("/", "second").Port;

        if (separateBuckets)
        {
            await using var served = await RawConnection.OpenAsync(secondPort);
            Assert.Equal(200, (await served.SendAsync("/")).Status);
            await gateway.AssertStatAsync("local_rate_limit.second.rate_limited", 0);
        }
        else
        {
            // The first listener's connection took the one token both listeners share.
            using var refused = new TcpClient();
            await refused.ConnectAsync(IPAddress.Loopback, secondPort);
            Assert.True(await ReadsEndAsync(refused));
            await gateway.AssertStatAsync("local_rate_limit.second.rate_limited", 1);
        }
        await gateway.AssertStatAsync("local_rate_limit.first.rate_limited", 0);
    }

    [Theory]
    [InlineData("stat_prefix: per_listener", "stat_prefix: \"\"", ".stat_prefix", "LocalRateLimitValidationError.StatPrefix: value length must be at least 1 characters")]
    [InlineData("token_bucket: { max_tokens: 2, tokens_per_fill: 1, fill_interval: 10s }", "", ".token_bucket", "LocalRateLimitValidationError.TokenBucket: value is required")]
    [InlineData("max_tokens: 2", "max_tokens: 0", ".token_bucket.max_tokens", "TokenBucketValidationError.MaxTokens: value must be greater than 0")]
    [InlineData("tokens_per_fill: 1", "tokens_per_fill: 0", ".token_bucket.tokens_per_fill", "TokenBucketValidationError.TokensPerFill: value must be greater than 0")]
    [InlineData("fill_interval: 10s", "fill_interval: 0.049s", ".token_bucket.fill_interval", "local rate limit token bucket fill timer must be >= 50ms")]
    [InlineData("stat_prefix: per_listener", "stat_prefix: per_listener\n    runtime_enabled: { default_value: true, runtime_key: rl }", ".runtime_enabled", "is not supported by this gateway")]
    public void Load_InvalidRateLimit_ErrorAtTheField(string field, string replacement, string path, string message)
    {
        var yaml = Yaml(1, RateLimit.Replace(field, replacement, StringComparison.Ordinal));

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.EndsWith("filters[0].typed_config" + path, error.Location.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RateLimitLast_EnvoysNonTerminalError()
    {
        var yaml = ListenerYaml.Build(1, string.Empty);
        var clusters = yaml.IndexOf("  clusters:", StringComparison.Ordinal);
        yaml = yaml[..clusters].TrimEnd('\n', ' ') + "\n" + ListenerYaml.Indent(ListenerYaml.Dedent(RateLimit), 6) + "\n" + yaml[clusters..];

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

        Assert.Contains(errors, e => e.Message == "Error: non-terminal filter named envoy.filters.network.local_ratelimit of type envoy.filters.network.local_ratelimit is the last filter in a network filter chain.");
    }

    private static Task<bool> ReadsEndAsync(TcpClient client) => ConnectionLimitTests.ReadsEndAsync(client);
}
