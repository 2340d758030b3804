namespace Gateway.Tests;

/// <summary>The rule for tests of the shared Envoy configs: skipped with a message when the folder is missing, failing under CI.</summary>
public class SharedEnvoyConfigsTests
{
    [Fact]
    public void SkipReasonFor_FolderMissingOutsideCi_SaysWhereItWasLookedFor()
    {
        var reason = SharedEnvoyConfigs.SkipReasonFor("/nowhere/envoy-configs", exists: false, ci: null);

        Assert.Equal("the shared Envoy configs are not at '/nowhere/envoy-configs' (set GATEWAY_SHARED_ENVOY_CONFIGS to their folder); the repository's fixtures in Configuration/EnvoyConfigs cover the same cases", reason);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    public void SkipReasonFor_FolderMissingUnderCi_RunsTheTestSoItFails(string ci)
    {
        Assert.Null(SharedEnvoyConfigs.SkipReasonFor("/nowhere/envoy-configs", exists: false, ci));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("true")]
    public void SkipReasonFor_FolderPresent_Runs(string? ci)
    {
        Assert.Null(SharedEnvoyConfigs.SkipReasonFor("/work/shared/envoy-configs", exists: true, ci));
    }

    [Fact]
    public void SkipReasonFor_CiNotTrue_StillSkips()
    {
        Assert.NotNull(SharedEnvoyConfigs.SkipReasonFor("/nowhere", exists: false, ci: "false"));
    }
}
