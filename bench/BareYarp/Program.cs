// Bare YARP: the floor the gateway is measured against.
//
//   dotnet bare-yarp.dll --upstream http://127.0.0.1:8080 --port 9000 [--http2]
//
// One catch-all route, one cluster with a single destination, HTTP/1.1 to the upstream,
// YARP's default transforms only, logging at Warning, Server GC (set in the csproj).
// --http2: the listener speaks HTTP/2 only (cleartext, so prior knowledge: h2c without Upgrade),
// like the gateway with codec_type HTTP2; the upstream stays HTTP/1.1.

using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

string? upstream = null;
int port = 0;
bool http2 = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--upstream" when i + 1 < args.Length:
            upstream = args[++i];
            break;
        case "--port" when i + 1 < args.Length:
            if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                Console.Error.WriteLine($"bare-yarp: --port must be 1..65535, got '{args[i]}'");
                return 2;
            }

            break;
        case "--http2":
            http2 = true;
            break;
        default:
            Console.Error.WriteLine($"bare-yarp: unknown argument '{args[i]}'");
            Console.Error.WriteLine("usage: bare-yarp --upstream http://127.0.0.1:PORT --port N [--http2]");
            return 2;
    }
}

if (upstream is null || port == 0 || !Uri.TryCreate(upstream, UriKind.Absolute, out _))
{
    Console.Error.WriteLine("usage: bare-yarp --upstream http://127.0.0.1:PORT --port N [--http2]");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddConsole();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, listen =>
{
    if (http2)
    {
        listen.Protocols = HttpProtocols.Http2;
    }
}));

RouteConfig[] routes =
[
    new RouteConfig
    {
        RouteId = "catch-all",
        ClusterId = "upstream",
        Match = new RouteMatch { Path = "/{**catch-all}" },
    },
];
ClusterConfig[] clusters =
[
    new ClusterConfig
    {
        ClusterId = "upstream",
        HttpRequest = new ForwarderRequestConfig
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        },
        Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal)
        {
            ["d0"] = new DestinationConfig { Address = upstream },
        },
    },
];

builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
return 0;
