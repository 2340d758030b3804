using Gateway.Configuration;
using Gateway.Filters;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting;

/// <summary>
/// What <c>services.AddEnvoyGateway(...)</c> returns: where HTTP filters are registered. The configuration is
/// loaded, checked against the registered filters and translated when the application is built, so filters may be
/// added after <c>AddEnvoyGateway</c> and before <c>Build()</c>.
/// </summary>
public interface IEnvoyGatewayBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The types and HTTP filters the configuration is read with.</summary>
    EnvoyTypeRegistry Types { get; }

    /// <summary>Registers an HTTP filter, so that <c>http_filters</c> and <c>typed_per_filter_config</c> can name it.</summary>
    IEnvoyGatewayBuilder AddHttpFilter(IHttpFilterFactory factory);

    /// <summary>Registers an HTTP filter by its factory type.</summary>
    IEnvoyGatewayBuilder AddHttpFilter<TFactory>() where TFactory : IHttpFilterFactory, new() => AddHttpFilter(new TFactory());

    /// <summary>
    /// Reads the configuration from a YAML or JSON file (Envoy's <c>-c</c>) when the application is built; documents
    /// given with <see cref="LoadFromYaml"/> afterwards are merged over it, as <c>--config-yaml</c> is.
    /// </summary>
    IEnvoyGatewayBuilder LoadFromFile(string path);

    /// <summary>Reads the configuration from YAML or JSON text (merged over what was given before, as <c>--config-yaml</c>).</summary>
    IEnvoyGatewayBuilder LoadFromYaml(string yaml, string sourceName = ConfigSource.InlineName);

    /// <summary>Runs a bootstrap already loaded and validated (by <see cref="EnvoyConfigLoader"/>); not with the other two.</summary>
    IEnvoyGatewayBuilder LoadFromBootstrap(Bootstrap bootstrap);
}

/// <summary>The builder; it owns the deferred load of the configuration.</summary>
internal sealed class EnvoyGatewayBuilder(IServiceCollection services, EnvoyTypeRegistry types) : IEnvoyGatewayBuilder
{
    private readonly List<Func<ConfigSource>> _sources = [];
    private Bootstrap? _bootstrap;
    private bool _frozen;

    public IEnvoyGatewayBuilder LoadFromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ThrowIfFrozen();
        // Read with the rest of the configuration, when the application is built: an error then is the load's.
        _sources.Add(() => ConfigSource.FromFile(path));
        return this;
    }

    public IEnvoyGatewayBuilder LoadFromYaml(string yaml, string sourceName = ConfigSource.InlineName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ThrowIfFrozen();
        var source = new ConfigSource(sourceName, yaml);
        _sources.Add(() => source);
        return this;
    }

    public IEnvoyGatewayBuilder LoadFromBootstrap(Bootstrap bootstrap)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        ThrowIfFrozen();
        _bootstrap = bootstrap;
        return this;
    }

    /// <summary>
    /// The configuration the builder was given: a bootstrap (whose filters must still be checked against this
    /// builder's registry: <c>LoadedElsewhere</c>), or the documents, loaded now.
    /// </summary>
    public (Bootstrap Bootstrap, bool LoadedElsewhere) Load()
    {
        if (_bootstrap is not null && _sources.Count > 0)
        {
            throw new InvalidOperationException("The gateway was given a bootstrap and configuration documents: use LoadFromBootstrap or LoadFromFile/LoadFromYaml, not both.");
        }
        if (_bootstrap is not null)
        {
            return (_bootstrap, true);
        }
        if (_sources.Count == 0)
        {
            throw new InvalidOperationException("The gateway has no configuration: call LoadFromFile, LoadFromYaml or LoadFromBootstrap on the builder AddEnvoyGateway returns.");
        }
        var sources = new List<ConfigSource>(_sources.Count);
        foreach (var source in _sources)
        {
            sources.Add(source());
        }
        return (EnvoyConfigLoader.Load(sources, Types), false);
    }

    private void ThrowIfFrozen()
    {
        if (_frozen)
        {
            throw new InvalidOperationException("The gateway's configuration has been loaded: give it before the application is built.");
        }
    }

    public IServiceCollection Services { get; } = services;

    public EnvoyTypeRegistry Types { get; } = types;

    public IEnvoyGatewayBuilder AddHttpFilter(IHttpFilterFactory factory)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("The gateway's configuration has been loaded: register HTTP filters before the application is built.");
        }
        Types.AddHttpFilter(factory);
        return this;
    }

    /// <summary>Called when the configuration is loaded: later registrations could not take effect.</summary>
    public void Freeze() => _frozen = true;
}
