using Gateway.Validation;

namespace Gateway.Configuration;

/// <summary>One configuration document: a file's text, or the <c>--config-yaml</c> string.</summary>
/// <param name="Name">The file path, or <c>--config-yaml</c>.</param>
/// <param name="Text">YAML or JSON text.</param>
public sealed record ConfigSource(string Name, string Text)
{
    /// <summary>The name used for inline YAML.</summary>
    public const string InlineName = "--config-yaml";

    /// <summary>Reads a file; a file that cannot be read becomes a configuration error.</summary>
    public static ConfigSource FromFile(string path)
    {
        var extension = System.IO.Path.GetExtension(path);
        if (extension is ".pb" or ".pb_text")
        {
            throw new EnvoyConfigException([new ConfigError(new SourceLocation(path, string.Empty, 0, 0),
                $"'{extension}' bootstrap files are not supported; use YAML (.yaml/.yml) or JSON (.json)")]);
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new EnvoyConfigException([new ConfigError(new SourceLocation(path, string.Empty, 0, 0), $"unable to read file: {path} ({ex.Message})")]);
        }
        return new ConfigSource(path, ConfigText.Decode(path, bytes));
    }
}

/// <summary>
/// Reads Envoy v3 bootstrap documents into a <see cref="Bootstrap"/> and validates it. Every error of
/// every document is collected and reported at once in an <see cref="EnvoyConfigException"/>; nothing
/// partial is ever returned.
/// </summary>
public static class EnvoyConfigLoader
{
    /// <summary>Loads the way Envoy's command line does: <c>--config-path</c> first, then <c>--config-yaml</c> merged over it.</summary>
    public static Bootstrap Load(string? configPath, string? configYaml, EnvoyTypeRegistry? types = null)
    {
        var sources = new List<ConfigSource>(2);
        if (!string.IsNullOrEmpty(configPath))
        {
            sources.Add(ConfigSource.FromFile(configPath));
        }
        if (!string.IsNullOrEmpty(configYaml))
        {
            sources.Add(new ConfigSource(ConfigSource.InlineName, configYaml));
        }
        if (sources.Count == 0)
        {
            throw new EnvoyConfigException([new ConfigError(SourceLocation.None,
                "At least one of --config-path or --config-yaml or Options::configProto() should be non-empty")]);
        }
        return Load(sources, types);
    }

    /// <summary>Binds the documents in order (later ones merged over earlier ones) and validates the result.</summary>
    public static Bootstrap Load(IReadOnlyList<ConfigSource> sources, EnvoyTypeRegistry? types = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        types ??= EnvoyTypeRegistry.CreateDefault();
        var names = new string[sources.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = sources[i].Name;
        }
        var errors = new ConfigErrorList(names);
        var bootstrap = new Bootstrap();
        var complete = true;
        foreach (var source in sources)
        {
            complete &= Bind(source, bootstrap, types, errors);
        }
        // One report: validation runs over what did bind (fields whose binding failed are skipped, see
        // EnvoyMessage.HasBindingError). A document that could not be read at all is missing from the model,
        // and checking the rest would only report its absence (unknown clusters, missing listeners).
        if (complete)
        {
            BootstrapValidator.Validate(bootstrap, types, errors);
        }
        if (errors.Count > 0)
        {
            throw errors.ToException();
        }
        return bootstrap;
    }

    /// <summary>Loads one YAML or JSON string.</summary>
    public static Bootstrap LoadYaml(string yaml, string sourceName = ConfigSource.InlineName, EnvoyTypeRegistry? types = null)
        => Load([new ConfigSource(sourceName, yaml)], types);

    /// <returns>False when the document could not be read into the model (a YAML error, or not a mapping).</returns>
    private static bool Bind(ConfigSource source, Bootstrap target, EnvoyTypeRegistry types, ConfigErrorList errors)
    {
        var before = errors.Count;
        var root = ConfigTreeReader.Read(source.Text, source.Name, errors);
        if (root is null)
        {
            return errors.Count == before;
        }
        return new ConfigBinder(source.Name, types, errors).BindRoot(root, target);
    }
}
