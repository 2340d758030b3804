using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Tests.Configuration;

/// <summary><c>normalize_path</c>, <c>merge_slashes</c> and <c>path_with_escaped_slashes_action</c> from YAML to the plan.</summary>
public sealed class PathNormalizationConfigTests
{
    [Fact]
    public void Translate_NoFields_EnvoysDefaults()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.Seed())).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.False(plan.NormalizePath);
        Assert.False(plan.MergeSlashes);
        Assert.Equal(PathWithEscapedSlashesAction.KeepUnchanged, plan.PathWithEscapedSlashesAction);
    }

    [Theory]
    [InlineData("UNESCAPE_AND_FORWARD", PathWithEscapedSlashesAction.UnescapeAndForward)]
    [InlineData("UNESCAPE_AND_REDIRECT", PathWithEscapedSlashesAction.UnescapeAndRedirect)]
    [InlineData("REJECT_REQUEST", PathWithEscapedSlashesAction.RejectRequest)]
    [InlineData("KEEP_UNCHANGED", PathWithEscapedSlashesAction.KeepUnchanged)]
    [InlineData("IMPLEMENTATION_SPECIFIC_DEFAULT", PathWithEscapedSlashesAction.KeepUnchanged)]
    [InlineData("4", PathWithEscapedSlashesAction.UnescapeAndForward)]
    public void Translate_Fields_CarriedIntoThePlan(string action, PathWithEscapedSlashesAction expected)
    {
        var yaml = TestConfigs.SeedWithHcmFields($"          normalize_path: true\n          merge_slashes: true\n          path_with_escaped_slashes_action: {action}");

        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml)).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.True(plan.NormalizePath);
        Assert.True(plan.MergeSlashes);
        Assert.Equal(expected, plan.PathWithEscapedSlashesAction);
    }

    [Fact]
    public void LoadYaml_NormalizePathFalse_StaysOff()
    {
        var plan = EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("          normalize_path: false"))).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.False(plan.NormalizePath);
    }

    [Fact]
    public void LoadYaml_UnknownEscapedSlashesAction_ListsValidValues()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("          path_with_escaped_slashes_action: UNESCAPE")));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.path_with_escaped_slashes_action", error.Location.Path);
        Assert.Equal(
            "unknown value 'UNESCAPE' for enum PathWithEscapedSlashesAction; valid values are: IMPLEMENTATION_SPECIFIC_DEFAULT, KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD",
            error.Message);
    }

    [Fact]
    public void LoadYaml_PathNormalizationOptions_StillNotSupported()
    {
        var ex = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(TestConfigs.SeedWithHcmFields("          path_normalization_options: {}")));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("field 'path_normalization_options' of envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager is not supported by this gateway yet", error.Message);
    }
}
