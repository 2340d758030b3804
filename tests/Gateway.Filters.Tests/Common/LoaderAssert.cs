using Gateway.Configuration;
using Gateway.Filters;

namespace Gateway.Tests.Common;

/// <summary>Loads YAML with the built-in filters registered.</summary>
internal static class LoaderAssert
{
    public static Bootstrap Load(string yaml) => EnvoyConfigLoader.LoadYaml(yaml, types: EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters());

    /// <summary>The one error loading <paramref name="yaml"/> reports.</summary>
    public static ConfigError SingleError(string yaml)
        => Assert.Single(Assert.Throws<EnvoyConfigException>(() => Load(yaml)).Errors);
}
