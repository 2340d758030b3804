using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks a listener: unique name, bind address and port clash, one filter chain holding the HTTP connection manager.</summary>
internal sealed class ListenerValidator(ValidationContext context)
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly BindAddressValidator _addresses = new(context);
    private readonly HttpConnectionManagerValidator _connectionManagers = new(context);
    private readonly TlsContextValidator _tls = new(context);

    public void Validate(Listener listener)
    {
        if (!string.IsNullOrEmpty(listener.Name) && !_names.Add(listener.Name))
        {
            context.Error(listener, "name", $"duplicate listener name '{listener.Name}': listener names must be unique");
        }
        // TCP and UDP port spaces are separate: a UDP listener (refused for UDP itself) never clashes with a TCP port.
        if (_addresses.Validate(listener, listener.Address, "address") is { } port
            && listener.Address!.SocketAddress!.Protocol == SocketProtocol.Tcp)
        {
            if (context.Ports.TryGetValue(port, out var other))
            {
                context.Error(listener, "address", $"port {port} is already used by {other.Path} ({other.Source}:{other.Line}); two listeners cannot share a port");
            }
            else
            {
                context.Ports[port] = listener.LocationOf("address");
            }
        }

        new AccessLogValidator(context).Validate(listener.AccessLog);
        if (listener.FilterChains.Count != 1)
        {
            context.Error(listener, "filter_chains", listener.FilterChains.Count == 0
                ? "a listener needs one filter chain"
                : "only one filter chain per listener is supported (filter_chain_match is not supported yet)");
        }
        foreach (var chain in listener.FilterChains)
        {
            ValidateFilterChain(chain);
        }
    }

    private void ValidateFilterChain(FilterChain chain)
    {
        if (chain.TransportSocket is { } socket)
        {
            _tls.Validate(socket);
        }
        if (chain.Filters.Count != 1)
        {
            context.Error(chain, "filters", chain.Filters.Count == 0
                ? "a filter chain needs the envoy.filters.network.http_connection_manager filter"
                : "only a single network filter, envoy.filters.network.http_connection_manager, is supported");
        }
        foreach (var filter in chain.Filters)
        {
            switch (filter.TypedConfig)
            {
                case HttpConnectionManager hcm:
                    _connectionManagers.Validate(hcm);
                    break;
                case null when filter.HasBindingError("typed_config"):
                    // The binder said what is wrong with it (e.g. an unknown @type).
                    break;
                case null when filter.Name is not null && BootstrapValidator.HttpConnectionManagerNames.Contains(filter.Name):
                    context.Error(filter, "name", $"'{filter.Name}' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
                    break;
                case null:
                    context.Error(filter, "name", $"network filter '{filter.Name}' is not supported by this gateway; only envoy.filters.network.http_connection_manager is");
                    break;
                default:
                    context.Error(filter, "typed_config", $"{BootstrapValidator.MessageSchemaName(filter.TypedConfig)} is not a network filter");
                    break;
            }
        }
    }
}
