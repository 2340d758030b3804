using Gateway.Admin;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Clusters.OutlierDetection;

/// <summary>Loading, validating and translating <c>outlier_detection</c>.</summary>
public class OutlierDetectionConfigTests
{
    private static string WithOutlier(string outlier)
        => TestConfigs.Seed().Replace("      lb_policy: ROUND_ROBIN", "      lb_policy: ROUND_ROBIN\n      outlier_detection: " + outlier, StringComparison.Ordinal);

    private static EnvoyConfigException LoadFails(string yaml) => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml"));

    private static ClusterPlan Translate(string outlier) => EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(WithOutlier(outlier))).ClusterPlans[0];

    [Fact]
    public void Translate_EmptyOutlierDetection_HasEnvoyDefaults()
    {
        var plan = Translate("{}").OutlierDetection;

        Assert.NotNull(plan);
        Assert.Equal(OutlierDetectionPlan.Defaults, plan);
        Assert.Equal(5u, plan.Consecutive5xx);
        Assert.Equal(TimeSpan.FromSeconds(10), plan.Interval);
        Assert.Equal(TimeSpan.FromSeconds(30), plan.BaseEjectionTime);
        Assert.Equal(10u, plan.MaxEjectionPercent);
        Assert.Equal(100u, plan.EnforcingConsecutive5xx);
        Assert.Equal(100u, plan.EnforcingSuccessRate);
        Assert.Equal(5u, plan.SuccessRateMinimumHosts);
        Assert.Equal(100u, plan.SuccessRateRequestVolume);
        Assert.Equal(1900u, plan.SuccessRateStdevFactor);
        Assert.Equal(5u, plan.ConsecutiveGatewayFailure);
        Assert.Equal(0u, plan.EnforcingConsecutiveGatewayFailure);
        Assert.Equal(85u, plan.FailurePercentageThreshold);
        Assert.Equal(0u, plan.EnforcingFailurePercentage);
        Assert.Equal(5u, plan.FailurePercentageMinimumHosts);
        Assert.Equal(50u, plan.FailurePercentageRequestVolume);
        Assert.Equal(TimeSpan.FromSeconds(300), plan.MaxEjectionTime);
        Assert.Equal(TimeSpan.Zero, plan.MaxEjectionTimeJitter);
        Assert.True(plan.SuccessfulActiveHealthCheckUnejectHost);
        Assert.False(plan.AlwaysEjectOneHost);
    }

    [Fact]
    public void Translate_NoOutlierDetection_IsNull()
        => Assert.Null(EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed())).ClusterPlans[0].OutlierDetection);

    [Fact]
    public void Translate_ConfiguredValues_AreKept()
    {
        var plan = Translate("{ consecutive_5xx: 3, interval: 0.5s, base_ejection_time: 2s, max_ejection_percent: 50, enforcingConsecutiveGatewayFailure: 100, "
            + "max_ejection_time: 20s, max_ejection_time_jitter: 1s, successful_active_health_check_uneject_host: false, always_eject_one_host: true }").OutlierDetection!;

        Assert.Equal(3u, plan.Consecutive5xx);
        Assert.Equal(TimeSpan.FromMilliseconds(500), plan.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), plan.BaseEjectionTime);
        Assert.Equal(50u, plan.MaxEjectionPercent);
        Assert.Equal(100u, plan.EnforcingConsecutiveGatewayFailure);
        Assert.Equal(TimeSpan.FromSeconds(20), plan.MaxEjectionTime);
        Assert.Equal(TimeSpan.FromSeconds(1), plan.MaxEjectionTimeJitter);
        Assert.False(plan.SuccessfulActiveHealthCheckUnejectHost);
        Assert.True(plan.AlwaysEjectOneHost);
    }

    [Fact]
    public void Translate_BaseEjectionTimeAboveDefaultMax_RaisesMaxEjectionTime()
        => Assert.Equal(TimeSpan.FromSeconds(400), Translate("{ base_ejection_time: 400s }").OutlierDetection!.MaxEjectionTime);

    [Fact]
    public void Load_BadValues_AreAllReportedWithTheirPaths()
    {
        var errors = LoadFails(WithOutlier("{ interval: 0s, base_ejection_time: -1s, max_ejection_percent: 101, enforcing_consecutive_5xx: 200, "
            + "failure_percentage_threshold: 150, enforcing_failure_percentage: 101, max_ejection_time_jitter: -2s }")).Errors;

        Assert.Equal(
            [
                "static_resources.clusters[0].outlier_detection.interval",
                "static_resources.clusters[0].outlier_detection.base_ejection_time",
                "static_resources.clusters[0].outlier_detection.max_ejection_percent",
                "static_resources.clusters[0].outlier_detection.enforcing_consecutive_5xx",
                "static_resources.clusters[0].outlier_detection.failure_percentage_threshold",
                "static_resources.clusters[0].outlier_detection.enforcing_failure_percentage",
                "static_resources.clusters[0].outlier_detection.max_ejection_time_jitter",
            ],
            errors.Select(e => e.Location.Path));
        Assert.Equal("'max_ejection_percent' must be a percentage in [0, 100], not 101", errors[2].Message);
        Assert.Equal("'interval' must be greater than 0s", errors[0].Message);
    }

    [Fact]
    public void Load_MaxEjectionTimeBelowBase_IsRejectedAsEnvoyDoes()
    {
        var error = Assert.Single(LoadFails(WithOutlier("{ base_ejection_time: 60s, max_ejection_time: 10s }")).Errors);

        Assert.Equal("static_resources.clusters[0].outlier_detection.max_ejection_time", error.Location.Path);
        Assert.Equal("outlier detector's max_ejection_time cannot be smaller than base_ejection_time", error.Message);
    }

    [Fact]
    public void Load_SplitExternalLocalOriginErrors_IsRejectedNamingThePath()
    {
        var error = Assert.Single(LoadFails(WithOutlier("{ split_external_local_origin_errors: true }")).Errors);

        Assert.Equal("static_resources.clusters[0].outlier_detection.split_external_local_origin_errors", error.Location.Path);
        Assert.StartsWith("'split_external_local_origin_errors: true' is not supported by this gateway yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SplitFalseAndLocalOriginSettings_AreAccepted()
        => Assert.NotNull(Translate("{ split_external_local_origin_errors: false, consecutive_local_origin_failure: 3, enforcing_local_origin_success_rate: 50 }").OutlierDetection);

    [Fact]
    public void Load_Monitors_IsNotSupported()
    {
        var error = Assert.Single(LoadFails(WithOutlier("{ monitors: [] }")).Errors);

        Assert.Equal("static_resources.clusters[0].outlier_detection.monitors", error.Location.Path);
        Assert.Equal("field 'monitors' of envoy.config.cluster.v3.OutlierDetection is not supported by this gateway yet", error.Message);
    }

    [Fact]
    public void Load_UnknownField_IsNamed()
    {
        var error = Assert.Single(LoadFails(WithOutlier("{ consecutive_500: 3 }")).Errors);

        Assert.Equal("static_resources.clusters[0].outlier_detection.consecutive_500", error.Location.Path);
    }

    [Fact]
    public void ProtoFieldNumbers_OutlierDetection_FollowTheProto()
    {
        Assert.Equal(19, ProtoFieldNumbers.Find("envoy.config.cluster.v3.Cluster", "outlier_detection")!.Value.Number);
        Assert.Equal(1, ProtoFieldNumbers.Find("envoy.config.cluster.v3.OutlierDetection", "consecutive_5xx")!.Value.Number);
        Assert.Equal(25, ProtoFieldNumbers.Find("envoy.config.cluster.v3.OutlierDetection", "always_eject_one_host")!.Value.Number);
    }

    [Theory]
    [InlineData(-1, "-1")]
    [InlineData(90, "90")]
    [InlineData(52.123456789, "52.1235")]
    [InlineData(0.00001, "1e-05")]
    public void FormatG_LikeFmt(double value, string expected) => Assert.Equal(expected, ClustersHandler.FormatG(value));
}
