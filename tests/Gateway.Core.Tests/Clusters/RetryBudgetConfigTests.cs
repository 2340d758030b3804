using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Clusters;

/// <summary>Loading, validating and translating <c>circuit_breakers.thresholds[].retry_budget</c>.</summary>
public class RetryBudgetConfigTests
{
    private static string WithThresholds(string thresholds)
        => TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      circuit_breakers: { thresholds: " + thresholds + " }", StringComparison.Ordinal);

    private static string WithCircuitBreakers(string circuitBreakers)
        => TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      circuit_breakers: " + circuitBreakers, StringComparison.Ordinal);

    private static EnvoyConfigException LoadFails(string yaml) => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    private static ClusterPlan Translate(string thresholds) => EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(WithThresholds(thresholds))).ClusterPlans[0];

    [Fact]
    public void Translate_EmptyRetryBudget_HasEnvoyDefaults()
    {
        var thresholds = Translate("[ { retry_budget: {} } ]").Thresholds[0];

        Assert.Equal(new RetryBudgetPlan(20, 3), thresholds.RetryBudget);
        Assert.Equal(3, thresholds.MaxRetries);
    }

    [Fact]
    public void Translate_ConfiguredRetryBudget_IsKept()
    {
        var thresholds = Translate("[ { max_retries: 9, retry_budget: { budget_percent: { value: 25.5 }, min_retry_concurrency: 1 } } ]").Thresholds[0];

        Assert.Equal(new RetryBudgetPlan(25.5, 1), thresholds.RetryBudget);
        Assert.Equal(9, thresholds.MaxRetries);
    }

    [Fact]
    public void Translate_ProtobufJsonSpelling_IsAccepted()
        => Assert.Equal(new RetryBudgetPlan(10, 0), Translate("[ { retryBudget: { budgetPercent: { value: 10 }, minRetryConcurrency: 0 } } ]").Thresholds[0].RetryBudget);

    [Fact]
    public void Translate_BudgetPercentWithoutValue_IsZeroAsProtobufReadsIt()
        => Assert.Equal(new RetryBudgetPlan(0, 3), Translate("[ { retry_budget: { budget_percent: {} } } ]").Thresholds[0].RetryBudget);

    [Fact]
    public void Translate_NoRetryBudget_IsNull()
    {
        var plan = Translate("[ { max_retries: 2 } ]");

        Assert.Null(plan.Thresholds[0].RetryBudget);
        Assert.Null(plan.Thresholds[1].RetryBudget);
        Assert.Equal(2, plan.Thresholds[0].RetryLimit(1000));
    }

    [Fact]
    public void Translate_RetryBudgetOnHigh_AppliesOnlyToHigh()
    {
        var plan = Translate("[ { max_requests: 5 }, { priority: HIGH, retry_budget: { min_retry_concurrency: 7 } } ]");

        Assert.Null(plan.Thresholds[0].RetryBudget);
        Assert.Equal(new RetryBudgetPlan(20, 7), plan.Thresholds[1].RetryBudget);
    }

    [Fact]
    public void Translate_SecondEntryForAPriority_IsIgnoredWithItsBudget()
        => Assert.Null(Translate("[ { max_retries: 1 }, { retry_budget: {} } ]").Thresholds[0].RetryBudget);

    [Fact]
    public void Load_BudgetPercentOutOfRange_IsRejectedNamingThePath()
    {
        var errors = LoadFails(WithThresholds("[ { retry_budget: { budget_percent: { value: 101 } } }, { priority: HIGH, retry_budget: { budget_percent: { value: -0.5 } } } ]")).Errors;

        Assert.Equal(
            [
                "static_resources.clusters[0].circuit_breakers.thresholds[0].retry_budget.budget_percent.value",
                "static_resources.clusters[0].circuit_breakers.thresholds[1].retry_budget.budget_percent.value",
            ],
            errors.Select(e => e.Location.Path));
        Assert.Equal("'budget_percent' must be a percentage in [0, 100], not 101", errors[0].Message);
        Assert.Equal("'budget_percent' must be a percentage in [0, 100], not -0.5", errors[1].Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("100")]
    public void Load_BudgetPercentAtTheBounds_IsAccepted(string percent)
        => Assert.NotNull(Translate("[ { retry_budget: { budget_percent: { value: " + percent + " } } } ]").Thresholds[0].RetryBudget);

    [Fact]
    public void Load_UnknownRetryBudgetField_IsRejectedNamingThePath()
    {
        var error = Assert.Single(LoadFails(WithThresholds("[ { retry_budget: { budget_percentage: { value: 10 } } } ]")).Errors);

        Assert.Equal("static_resources.clusters[0].circuit_breakers.thresholds[0].retry_budget.budget_percentage", error.Location.Path);
    }

    [Fact]
    public void Load_MaxConnectionPools_IsStillNotSupported()
    {
        var error = Assert.Single(LoadFails(WithThresholds("[ { max_connection_pools: 2 } ]")).Errors);

        Assert.Equal("static_resources.clusters[0].circuit_breakers.thresholds[0].max_connection_pools", error.Location.Path);
        Assert.Contains("not supported by this gateway yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PerHostThresholds_IsStillNotSupported()
    {
        var error = Assert.Single(LoadFails(WithCircuitBreakers("{ per_host_thresholds: [ { max_connections: 2 } ] }")).Errors);

        Assert.Equal("static_resources.clusters[0].circuit_breakers.per_host_thresholds", error.Location.Path);
        Assert.Contains("not supported by this gateway yet", error.Message, StringComparison.Ordinal);
    }
}
