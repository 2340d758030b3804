using System.Reflection;

namespace Gateway.Admin;

/// <summary>
/// What the admin API reports about the running process (<c>/server_info</c>): the version string and
/// the command line options the server runs with. The <c>gateway</c> host registers one built from its
/// parsed command line; an application that embeds the gateway may register its own, otherwise
/// <see cref="Default"/> is reported.
/// </summary>
public sealed record AdminServerOptions
{
    /// <summary>Envoy-style version: <c>&lt;revision&gt;/&lt;version&gt;/Clean/RELEASE/.NET-&lt;runtime&gt;</c>.</summary>
    public string Version { get; init; } = VersionOf(Assembly.GetEntryAssembly());

    /// <summary><c>-c</c>/<c>--config-path</c>.</summary>
    public string ConfigPath { get; init; } = string.Empty;

    /// <summary><c>--config-yaml</c>.</summary>
    public string ConfigYaml { get; init; } = string.Empty;

    /// <summary><c>-l</c>/<c>--log-level</c>, as Envoy names it (<c>info</c>, <c>debug</c>, …).</summary>
    public string LogLevel { get; init; } = "info";

    /// <summary><c>--mode</c>: <c>Serve</c>, <c>Validate</c> or <c>InitOnly</c> (Envoy's CommandLineOptions.Mode names).</summary>
    public string Mode { get; init; } = "Serve";

    /// <summary><c>--admin-address-path</c>.</summary>
    public string AdminAddressPath { get; init; } = string.Empty;

    /// <summary>Worker threads reported as <c>concurrency</c> (Envoy's default: the hardware threads).</summary>
    public int Concurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>The options of a process that registered none.</summary>
    public static AdminServerOptions Default { get; } = new();

    /// <summary>The version string of an assembly, from its informational version (<c>1.2.3+&lt;sha&gt;</c>).</summary>
    public static string VersionOf(Assembly? assembly)
    {
        var informational = assembly?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus >= 0 ? informational[..plus] : informational;
        var revision = plus >= 0 ? informational[(plus + 1)..] : new string('0', 40);
        return $"{revision}/{version}/Clean/RELEASE/.NET-{Environment.Version}";
    }
}
