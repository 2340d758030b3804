using Gateway.Stats;

namespace Gateway.Tests.Stats;

public class StatNamesTests
{
    [Theory]
    [InlineData(null, "0.0.0.0", 15001, "listener.0.0.0.0_15001")]
    [InlineData(null, "::1", 10000, "listener.[__1]_10000")]
    [InlineData("public", "0.0.0.0", 80, "listener.public")]
    public void ListenerScope_AddressOrPrefix_IsNamedAsEnvoyDoes(string? prefix, string address, int port, string expected)
        => Assert.Equal(expected, StatNames.ListenerScope(prefix, address, port));

    [Fact]
    public void HttpCodeStats_Charge_CreatesOnlyTheCountersUsed()
    {
        var store = new StatsStore();
        var codes = new HttpCodeStats(store, "cluster.c.");

        codes.Charge(503);
        codes.Charge(503);
        codes.Charge(42);

        Assert.Equal(
            ["cluster.c.upstream_rq_503: 2", "cluster.c.upstream_rq_5xx: 2", "cluster.c.upstream_rq_completed: 3", "cluster.c.upstream_rq_unknown: 1"],
            store.Counters.Select(c => $"{c.Name}: {c.Value}").Order(StringComparer.Ordinal));
    }
}
