using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Tests.Hosting;
using Gateway.Tests.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Routing.RoutingTestConfig;

namespace Gateway.Tests.Routing;

/// <summary>RouteMatch.runtime_fraction: its default_value, decided as Envoy's featureEnabled on the stream's random value.</summary>
public class RuntimeFractionMatchTests
{
    private static RouteTable<string> Fraction(uint numerator, DenominatorType denominator)
        => Routes(
            Route("sampled", new RouteMatch
            {
                Prefix = "/",
                RuntimeFraction = new RuntimeFractionalPercent { RuntimeKey = "routing.sampled", DefaultValue = new FractionalPercent { Numerator = numerator, Denominator = denominator } },
            }),
            Route("rest", new RouteMatch { Prefix = "/" }));

    private static string? Run(RouteTable<string> table, ulong randomValue)
        => table.Match("example.com", "GET", "http", "/", new HeaderDictionary(), null, randomValue, out _, out _);

    [Theory]
    // random % denominator < numerator (Envoy's evaluateFractionalPercent).
    [InlineData(30u, DenominatorType.Hundred, 29ul, "sampled")]
    [InlineData(30u, DenominatorType.Hundred, 30ul, "rest")]
    [InlineData(30u, DenominatorType.Hundred, 129ul, "sampled")]
    [InlineData(30u, DenominatorType.Hundred, 199ul, "rest")]
    [InlineData(1u, DenominatorType.TenThousand, 10_000ul, "sampled")]
    [InlineData(1u, DenominatorType.TenThousand, 10_001ul, "rest")]
    [InlineData(0u, DenominatorType.Hundred, 0ul, "rest")]
    [InlineData(100u, DenominatorType.Hundred, 99ul, "sampled")]
    [InlineData(250u, DenominatorType.Hundred, 99ul, "sampled")]
    public void Match_RuntimeFraction_DecidesOnTheRandomValueModuloTheDenominator(uint numerator, DenominatorType denominator, ulong randomValue, string expected)
        => Assert.Equal(expected, Run(Fraction(numerator, denominator), randomValue));

    [Fact]
    public void Match_RuntimeFraction_SameRandomValueSameRoute()
    {
        var table = Fraction(50, DenominatorType.Hundred);
        for (var value = 0ul; value < 200; value++)
        {
            Assert.Equal(Run(table, value), Run(table, value));
        }
    }

    [Fact]
    public async Task RuntimeFraction_SeededRandom_SplitsRequestsAsTheDraws()
    {
        var yaml = ListenerYaml.Build(upstreamPort: 1, httpFilters: "", routes: """
            - match: { prefix: "/", runtime_fraction: { default_value: { numerator: 25, denominator: HUNDRED }, runtime_key: routing.canary } }
              direct_response: { status: 200, body: { inline_string: canary } }
            - match: { prefix: "/" }
              direct_response: { status: 200, body: { inline_string: stable } }
            """);
        const int Requests = 40;
        // The connection manager draws one value per stream from the injected Random, so the same seed replays the draws.
        var expected = new Random(11);
        var canaries = 0;
        await using var gateway = await InProcessGateway.StartAsync(yaml, configureServices: s => s.AddSingleton(new Random(11)));
        for (var i = 0; i < Requests; i++)
        {
            var want = (ulong)expected.NextInt64() % 100 < 25 ? "canary" : "stable";
            canaries += want == "canary" ? 1 : 0;
            Assert.Equal(want, await gateway.Client.GetStringAsync(gateway.ListenerUri("/")));
        }
        Assert.InRange(canaries, 1, Requests - 1);
    }

    [Fact]
    public void Load_RuntimeFractionWithoutDefaultValue_Refused()
    {
        var yaml = ListenerYaml.Build(upstreamPort: 1, httpFilters: "", routes: """
            - match: { prefix: "/", runtime_fraction: { runtime_key: k } }
              direct_response: { status: 200 }
            """);

        var errors = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml")).Errors;

        var error = Assert.Single(errors);
        Assert.Equal("'default_value' is required", error.Message);
        Assert.EndsWith("routes[0].match.runtime_fraction.default_value", error.Location.Path, StringComparison.Ordinal);
    }
}
