using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Host.CommandLine;

namespace Gateway.Host;

/// <summary>
/// The <c>gateway</c> command (Envoy's flags), for this executable and for a custom one: a project that references
/// Gateway.Host and its own HTTP filters calls <see cref="RunAsync"/> with them, and gets the same process.
/// </summary>
public static class GatewayProgram
{
    /// <summary>Parses the command line, loads the configuration with the built-in filters and <paramref name="addFilters"/>'s, and runs.</summary>
    /// <returns>The process exit code.</returns>
    public static Task<int> RunAsync(string[] args, Action<EnvoyTypeRegistry>? addFilters = null) => RunAsync(args, addFilters, configureServices: null);

    /// <summary>
    /// As <see cref="RunAsync(string[], Action{EnvoyTypeRegistry}?)"/>, and adds services to the host before it is built
    /// (what the filters need: authentication schemes for a middleware pipeline, options, clients).
    /// </summary>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(string[] args, Action<EnvoyTypeRegistry>? addFilters, Action<IServiceCollection>? configureServices)
    {
        var parsed = CommandLineParser.Parse(args);
        if (parsed.Options is not { } options)
        {
            Console.Error.WriteLine(parsed.Error);
            Console.Error.WriteLine();
            Console.Error.WriteLine(CommandLineParser.Usage);
            return 1;
        }
        if (options.ShowHelp)
        {
            Console.Out.WriteLine(CommandLineParser.Usage);
            return 0;
        }
        if (options.ShowVersion)
        {
            Console.Out.WriteLine();
            Console.Out.WriteLine($"gateway  version: {GatewayServer.Version}");
            Console.Out.WriteLine();
            return 0;
        }

        var types = EnvoyTypeRegistry.CreateDefault().AddBuiltInHttpFilters();
        addFilters?.Invoke(types);
        Bootstrap bootstrap;
        try
        {
            bootstrap = EnvoyConfigLoader.Load(options.ConfigPath, options.ConfigYaml, types);
        }
        catch (EnvoyConfigException ex)
        {
            GatewayServer.WriteCritical($"error initializing configuration '{options.ConfigPath}': {ex.Message}");
            return 1;
        }
        catch (Exception ex)
        {
            // The loader turns every bad input into an EnvoyConfigException; this is the last line should it
            // have a bug: the operator gets an error and exit code 1, not a crash with a stack trace.
            GatewayServer.WriteCritical($"error initializing configuration '{options.ConfigPath}': unexpected {ex.GetType().Name}: {ex.Message}");
            return 1;
        }

        if (options.Mode == ServerMode.Validate)
        {
            Console.Out.WriteLine($"configuration '{options.ConfigPath}' OK");
            return 0;
        }

        return await GatewayServer.RunAsync(bootstrap, types, options, configureServices).ConfigureAwait(false);
    }
}
