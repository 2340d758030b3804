using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>
/// The Kestrel endpoints of listeners LDS gives. Kestrel binds and unbinds endpoints on a running server only for its
/// configuration (<c>Endpoints:&lt;name&gt;:Url</c>, reloaded on change): this is that configuration, one endpoint per
/// dynamic listener, each set up by the gateway's own callback (its connection steps, TLS, protocols). An endpoint taken
/// out is unbound by Kestrel (the socket closed at once, its connections asked to close and aborted after 5 s); a
/// listener whose address changed gets a new endpoint. Endpoints given in code (static listeners, the admin) are
/// never touched by a reload.
/// </summary>
internal sealed class ListenerEndpoints : ConfigurationProvider, IConfigurationSource
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Key, string Url, string Binding)> _bound = new(StringComparer.Ordinal);
    private KestrelConfigurationLoader? _loader;
    private int _next;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>
    /// Puts this configuration beside the application's own Kestrel configuration (kept, chained first) and makes Kestrel
    /// follow its changes.
    /// </summary>
    public void Attach(KestrelServerOptions kestrel)
    {
        var builder = new ConfigurationBuilder();
        if (kestrel.ConfigurationLoader?.Configuration is { } existing)
        {
            builder.AddConfiguration(existing);
        }
        builder.Add(this);
        _loader = kestrel.Configure(builder.Build(), reloadOnChange: true);
    }

    /// <summary>True once Kestrel follows this configuration.</summary>
    public bool Attached => _loader is not null;

    /// <summary>
    /// Makes the endpoints those of <paramref name="listeners"/> (name, URL, what the endpoint is set up with, the callback
    /// setting a new endpoint up). Unchanged ones stay bound; a reload is triggered only when something changed.
    /// </summary>
    public void Set(IReadOnlyList<(string Name, string Url, string Binding, Action<ListenOptions> Configure)> listeners)
    {
        lock (_lock)
        {
            var loader = _loader ?? throw new InvalidOperationException("Kestrel does not follow the dynamic listeners' endpoints yet.");
            var changed = false;
            var wanted = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, url, binding, configure) in listeners)
            {
                wanted.Add(name);
                if (_bound.TryGetValue(name, out var bound) && bound.Binding == binding)
                {
                    continue;
                }
                // A new key per binding: the configuration section of a key never changes, so Kestrel rebinds exactly these.
                var key = "envoy-listener-" + (++_next).ToString(CultureInfo.InvariantCulture);
                loader.Endpoint(key, endpoint => configure(endpoint.ListenOptions));
                _bound[name] = (key, url, binding);
                changed = true;
            }
            foreach (var name in _bound.Keys.ToArray())
            {
                if (!wanted.Contains(name))
                {
                    _bound.Remove(name);
                    changed = true;
                }
            }
            if (!changed)
            {
                return;
            }
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, url, _) in _bound.Values)
            {
                data["Endpoints:" + key + ":Url"] = url;
            }
            Data = data;
            OnReload();
        }
    }

    /// <summary>The URL Kestrel's configuration takes for an address and port.</summary>
    public static string UrlOf(string address, int port)
        => System.Net.IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"http://[{address}]:{port.ToString(CultureInfo.InvariantCulture)}"
            : $"http://{address}:{port.ToString(CultureInfo.InvariantCulture)}";
}
