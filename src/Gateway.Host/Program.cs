using System.Reflection;
using Gateway.Configuration;
using Gateway.Host;
using Gateway.Host.CommandLine;

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

Bootstrap bootstrap;
try
{
    bootstrap = EnvoyConfigLoader.Load(options.ConfigPath, options.ConfigYaml);
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

return await GatewayServer.RunAsync(bootstrap, options).ConfigureAwait(false);
