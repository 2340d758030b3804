using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks a listener: unique name, bind address and port clash, its filter chains (each ending in the HTTP connection manager or the TCP proxy) and their matches, its listener filters.</summary>
internal sealed class ListenerValidator(ValidationContext context)
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly BindAddressValidator _addresses = new(context);
    private readonly HttpConnectionManagerValidator _connectionManagers = new(context);
    private readonly TlsContextValidator _tls = new(context);
    private readonly TcpProxyValidator _tcpProxies = new(context);

    public void Validate(Listener listener)
    {
        foreach (var option in listener.SocketOptions)
        {
            ValidateSocketOption(option);
        }
        // Kestrel's socket transport has one backlog for every endpoint: the listeners must agree (unset: Envoy's default).
        if (listener.TcpBacklogSize is { } backlog)
        {
            context.ServerWide(listener, "tcp_backlog_size", backlog.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            context.ServerWide(listener, "name", "tcp_backlog_size", "net.core.somaxconn");
        }
        if (listener.ConnectionBalanceConfig is { ExactBalance: null } balance && !balance.HasBindingError("extend_balance"))
        {
            // The proto's one-of is required.
            context.Error(balance, "exact_balance", "Proto constraint validation failed (ConnectionBalanceConfigValidationError.BalanceType: value is required)");
        }
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
        var address = EnvoyAddress(listener);
        if (listener.FilterChains.Count == 0 && listener.DefaultFilterChain is null)
        {
            context.Error(listener, "filter_chains", $"error adding listener '{address}': no filter chains specified");
        }
        foreach (var chain in listener.FilterChains)
        {
            ValidateFilterChain(chain);
        }
        if (listener.DefaultFilterChain is { } fallback)
        {
            // Envoy ignores the default chain's filter_chain_match: it is the chain of connections no match takes.
            ValidateFilterChain(fallback);
        }
        new FilterChainMatchValidator(context).Validate(listener.FilterChains, address);
        ValidateListenerFilters(listener);
        ValidateProtocols(listener);
    }

    /// <summary>The listener's address as Envoy prints it in its errors (<c>0.0.0.0:10000</c>, <c>[::]:10000</c>).</summary>
    private static string EnvoyAddress(Listener listener)
    {
        var socket = listener.Address?.SocketAddress;
        var host = socket?.Address ?? string.Empty;
        return (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + ":" + (socket?.PortValue ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The network local rate limit's proto rules, and Envoy's LocalRateLimiterImpl's 50 ms floor for the fill timer.</summary>
    private void ValidateLocalRateLimit(NetworkLocalRateLimitConfig rateLimit)
    {
        const string Prefix = "Proto constraint validation failed (LocalRateLimitValidationError.";
        if (string.IsNullOrEmpty(rateLimit.StatPrefix))
        {
            context.Error(rateLimit, "stat_prefix", Prefix + "StatPrefix: value length must be at least 1 characters)");
        }
        if (rateLimit.TokenBucket is not { } bucket)
        {
            if (!rateLimit.HasBindingError("token_bucket"))
            {
                context.Error(rateLimit, "token_bucket", Prefix + "TokenBucket: value is required)");
            }
            return;
        }
        const string Bucket = Prefix + "TokenBucket: embedded message failed validation | caused by TokenBucketValidationError.";
        if (bucket.MaxTokens == 0)
        {
            context.Error(bucket, "max_tokens", Bucket + "MaxTokens: value must be greater than 0)");
        }
        if (bucket.TokensPerFill is 0)
        {
            context.Error(bucket, "tokens_per_fill", Bucket + "TokensPerFill: value must be greater than 0)");
        }
        if (bucket.FillInterval is not { } fill)
        {
            context.Error(bucket, "fill_interval", Bucket + "FillInterval: value is required)");
        }
        else if (fill <= TimeSpan.Zero)
        {
            context.Error(bucket, "fill_interval", Bucket + "FillInterval: value must be greater than 0s)");
        }
        else if (fill < TimeSpan.FromMilliseconds(50))
        {
            context.Error(bucket, "fill_interval", "local rate limit token bucket fill timer must be >= 50ms");
        }
    }

    /// <summary>A socket option the gateway can set: an <c>int</c> value, before or after <c>bind()</c> (Kestrel listens itself).</summary>
    private void ValidateSocketOption(SocketOption option)
    {
        if (option.IntValue is null && !option.HasBindingError("buf_value"))
        {
            context.Error(option, "int_value", "Proto constraint validation failed (SocketOptionValidationError.Value: value is required)");
        }
        else if (option.IntValue is < int.MinValue or > int.MaxValue)
        {
            context.Error(option, "int_value", $"'int_value' {option.IntValue} does not fit a C int, as setsockopt takes it");
        }
        if (option.Level is < int.MinValue or > int.MaxValue)
        {
            context.Error(option, "level", $"'level' {option.Level} is not a valid socket option level");
        }
        if (option.Name is < int.MinValue or > int.MaxValue)
        {
            context.Error(option, "name", $"'name' {option.Name} is not a valid socket option name");
        }
        if (option.State == SocketOptionState.StateListening)
        {
            context.Error(option, "state", "'state' STATE_LISTENING is not supported by this gateway: Kestrel calls listen() itself; use STATE_PREBIND or STATE_BOUND");
        }
    }

    /// <summary>Listener filters: only the TLS inspector, once, as this gateway implements it.</summary>
    private void ValidateListenerFilters(Listener listener)
    {
        var inspectors = 0;
        foreach (var filter in listener.ListenerFilters)
        {
            switch (filter.TypedConfig)
            {
                case TlsInspector inspector:
                    if (++inspectors == 2)
                    {
                        context.Error(filter, "typed_config", "only one envoy.filters.listener.tls_inspector per listener is supported");
                    }
                    if (inspector.EnableJa3Fingerprinting == true)
                    {
                        context.Error(inspector, "enable_ja3_fingerprinting", "JA3 fingerprinting is not supported (only false)");
                    }
                    break;
                case null when filter.HasBindingError("typed_config"):
                    break;
                case null when filter.Name is "envoy.filters.listener.tls_inspector" or "envoy.listener.tls_inspector" or "tls_inspector":
                    context.Error(filter, "name", $"'{filter.Name}' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector");
                    break;
                case null:
                    context.Error(filter, "name", $"listener filter '{filter.Name}' is not supported by this gateway; only envoy.filters.listener.tls_inspector is");
                    break;
                default:
                    context.Error(filter, "typed_config", $"{BootstrapValidator.MessageSchemaName(filter.TypedConfig)} is not a listener filter");
                    break;
            }
        }
    }

    /// <summary>
    /// Kestrel picks a connection's protocol per endpoint, not per chain: by ALPN over TLS, and in plain text HTTP/1.1
    /// unless the whole endpoint is HTTP/2 only. So a plain-text HTTP/2 chain (codec_type HTTP2) needs every chain of its
    /// listener to be HTTP/2 only.
    /// </summary>
    private void ValidateProtocols(Listener listener)
    {
        FilterChain? plainHttp2 = null;
        FilterChain? other = null;
        foreach (var chain in Chains(listener))
        {
            if (chain.Filters is not [.., { TypedConfig: HttpConnectionManager hcm }])
            {
                continue;
            }
            var protocols = Translation.EnvoyTranslator.ChainProtocols(hcm, chain.TransportSocket);
            if (chain.TransportSocket is null && protocols == Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2)
            {
                plainHttp2 ??= chain;
            }
            else if (protocols != Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2)
            {
                other ??= chain;
            }
        }
        if (plainHttp2 is not null && other is not null)
        {
            context.Error(plainHttp2, "filters", $"filter chain '{plainHttp2.Name}' serves HTTP/2 in plain text while filter chain '{other.Name}' of the same listener serves HTTP/1.1: "
                + "Kestrel chooses a plain-text connection's protocol per port, so plain-text HTTP/2 needs every chain of the listener to be HTTP/2 only");
        }
    }

    private static IEnumerable<FilterChain> Chains(Listener listener)
    {
        foreach (var chain in listener.FilterChains)
        {
            yield return chain;
        }
        if (listener.DefaultFilterChain is { } fallback)
        {
            yield return fallback;
        }
    }

    private void ValidateFilterChain(FilterChain chain)
    {
        if (chain.TransportSocket is { } socket)
        {
            _tls.Validate(socket);
        }
        if (chain.Filters.Count == 0)
        {
            context.Error(chain, "filters", "a filter chain needs the envoy.filters.network.http_connection_manager or envoy.filters.network.tcp_proxy filter");
        }
        // Envoy's validateTerminalFilters: a terminal filter only last, and the last one terminal.
        for (var i = 0; i < chain.Filters.Count - 1; i++)
        {
            if (TerminalFilterName(chain.Filters[i]) is { } terminal)
            {
                context.Error(chain.Filters[i], "name", $"Error: terminal filter named {chain.Filters[i].Name} of type {terminal} must be the last filter in a network filter chain.");
            }
        }
        if (chain.Filters is [.., { TypedConfig: ConnectionLimitConfig or NetworkLocalRateLimitConfig } last])
        {
            var type = last.TypedConfig is ConnectionLimitConfig ? "envoy.filters.network.connection_limit" : "envoy.filters.network.local_ratelimit";
            context.Error(last, "name", $"Error: non-terminal filter named {last.Name} of type {type} is the last filter in a network filter chain.");
        }
        foreach (var filter in chain.Filters)
        {
            switch (filter.TypedConfig)
            {
                case HttpConnectionManager hcm:
                    _connectionManagers.Validate(hcm);
                    break;
                case TcpProxyConfig proxy:
                    _tcpProxies.Validate(proxy);
                    break;
                case ConnectionLimitConfig limit:
                    if (string.IsNullOrEmpty(limit.StatPrefix))
                    {
                        context.Error(limit, "stat_prefix", "Proto constraint validation failed (ConnectionLimitValidationError.StatPrefix: value length must be at least 1 characters)");
                    }
                    if (limit.MaxConnections is 0)
                    {
                        context.Error(limit, "max_connections", "Proto constraint validation failed (ConnectionLimitValidationError.MaxConnections: value must be greater than or equal to 1)");
                    }
                    if (limit.Delay is { } delay && delay < TimeSpan.Zero)
                    {
                        context.Error(limit, "delay", "'delay' may not be negative");
                    }
                    break;
                case NetworkLocalRateLimitConfig rateLimit:
                    ValidateLocalRateLimit(rateLimit);
                    break;
                case null when filter.HasBindingError("typed_config"):
                    // The binder said what is wrong with it (e.g. an unknown @type).
                    break;
                case null when filter.Name is not null && BootstrapValidator.HttpConnectionManagerNames.Contains(filter.Name):
                    context.Error(filter, "name", $"'{filter.Name}' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
                    break;
                case null when filter.Name is "envoy.filters.network.tcp_proxy" or "envoy.tcp_proxy":
                    context.Error(filter, "name", $"'{filter.Name}' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
                    break;
                case null:
                    context.Error(filter, "name", $"network filter '{filter.Name}' is not supported by this gateway; only envoy.filters.network.http_connection_manager, envoy.filters.network.tcp_proxy, envoy.filters.network.connection_limit and envoy.filters.network.local_ratelimit are");
                    break;
                default:
                    context.Error(filter, "typed_config", $"{BootstrapValidator.MessageSchemaName(filter.TypedConfig)} is not a network filter");
                    break;
            }
        }
    }

    /// <summary>The factory name of a terminal network filter (Envoy's isTerminalFilterByProto), or null.</summary>
    private static string? TerminalFilterName(NetworkFilter filter) => filter.TypedConfig switch
    {
        HttpConnectionManager => "envoy.filters.network.http_connection_manager",
        TcpProxyConfig => "envoy.filters.network.tcp_proxy",
        _ => null,
    };
}
