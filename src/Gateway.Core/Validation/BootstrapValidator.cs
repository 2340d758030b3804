using System.Globalization;
using System.Net;
using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// Checks what the binder cannot: required fields, one-ofs, ranges, references between resources,
/// duplicates and port clashes. Every problem is collected; nothing stops at the first.
/// </summary>
public static class BootstrapValidator
{
    /// <summary>Network filter names of the HTTP connection manager (current and pre-1.14 spellings).</summary>
    public static readonly IReadOnlySet<string> HttpConnectionManagerNames =
        new HashSet<string>(StringComparer.Ordinal) { "envoy.filters.network.http_connection_manager", "envoy.http_connection_manager" };

    /// <summary>Returns every error in the bootstrap; empty when it is usable.</summary>
    public static IReadOnlyList<ConfigError> Validate(Bootstrap bootstrap, EnvoyTypeRegistry? types = null)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        var context = new Context(types ?? EnvoyTypeRegistry.CreateDefault());
        var ports = new Dictionary<uint, SourceLocation>();

        if (bootstrap.Admin is { } admin)
        {
            if (ValidateBindAddress(context, admin, admin.Address, "address") is { } port)
            {
                ports[port] = admin.LocationOf("address");
            }
        }

        var resources = bootstrap.StaticResources;
        var clusterNames = new HashSet<string>(StringComparer.Ordinal);
        if (resources is not null)
        {
            foreach (var cluster in resources.Clusters)
            {
                ValidateCluster(context, cluster);
                if (!string.IsNullOrEmpty(cluster.Name) && !clusterNames.Add(cluster.Name))
                {
                    context.Error(cluster.LocationOf("name"), $"duplicate cluster name '{cluster.Name}': cluster names must be unique");
                }
            }

            var listenerNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var listener in resources.Listeners)
            {
                if (!string.IsNullOrEmpty(listener.Name) && !listenerNames.Add(listener.Name))
                {
                    context.Error(listener.LocationOf("name"), $"duplicate listener name '{listener.Name}': listener names must be unique");
                }
                // TCP and UDP port spaces are separate: a UDP listener (refused for UDP itself) never clashes with a TCP port.
                if (ValidateBindAddress(context, listener, listener.Address, "address") is { } port
                    && listener.Address!.SocketAddress!.Protocol == SocketProtocol.Tcp)
                {
                    if (ports.TryGetValue(port, out var other))
                    {
                        context.Error(listener.LocationOf("address"), $"port {port} is already used by {other.Path} ({other.Source}:{other.Line}); two listeners cannot share a port");
                    }
                    else
                    {
                        ports[port] = listener.LocationOf("address");
                    }
                }
                ValidateListener(context, listener, clusterNames);
            }
        }
        // Report in document order, whichever check found the problem.
        return context.Errors
            .OrderBy(e => e.Location.Source, StringComparer.Ordinal)
            .ThenBy(e => e.Location.Line)
            .ThenBy(e => e.Location.Column)
            .ToArray();
    }

    private static uint? ValidateBindAddress(Context context, EnvoyMessage owner, Address? address, string field)
    {
        if (address?.SocketAddress is not { } socket)
        {
            context.Error(owner.LocationOf(field), address is null ? $"'{field}' is required" : "'socket_address' is required");
            return null;
        }
        if (socket.Protocol != SocketProtocol.Tcp)
        {
            context.Error(socket.LocationOf("protocol"), "only TCP listeners are supported; UDP is not supported by this gateway yet");
        }
        if (string.IsNullOrEmpty(socket.Address) || !IPAddress.TryParse(socket.Address, out _))
        {
            context.Error(socket.LocationOf("address"), $"malformed IP address: '{socket.Address}' (a listener binds an IP address, not a host name)");
        }
        if (socket.PortValue is not { } port)
        {
            context.Error(socket.LocationOf("port_value"), "'port_value' is required");
            return null;
        }
        if (port > 65535)
        {
            context.Error(socket.LocationOf("port_value"), $"port {port} is out of range (0-65535)");
            return null;
        }
        return port == 0 ? null : port;
    }

    private static void ValidateListener(Context context, Listener listener, HashSet<string> clusters)
    {
        if (listener.FilterChains.Count != 1)
        {
            context.Error(listener.LocationOf("filter_chains"), listener.FilterChains.Count == 0
                ? "a listener needs one filter chain"
                : "only one filter chain per listener is supported (filter_chain_match is not supported yet)");
        }
        for (var c = 0; c < listener.FilterChains.Count; c++)
        {
            var chain = listener.FilterChains[c];
            if (chain.Filters.Count != 1)
            {
                context.Error(chain.LocationOf("filters"), chain.Filters.Count == 0
                    ? "a filter chain needs the envoy.filters.network.http_connection_manager filter"
                    : "only a single network filter, envoy.filters.network.http_connection_manager, is supported");
            }
            foreach (var filter in chain.Filters)
            {
                switch (filter.TypedConfig)
                {
                    case HttpConnectionManager hcm:
                        ValidateConnectionManager(context, hcm, clusters);
                        break;
                    case null when filter.Name is not null && HttpConnectionManagerNames.Contains(filter.Name):
                        context.Error(filter.LocationOf("name"), $"'{filter.Name}' needs a typed_config with \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
                        break;
                    case null:
                        context.Error(filter.LocationOf("name"), $"network filter '{filter.Name}' is not supported by this gateway; only envoy.filters.network.http_connection_manager is");
                        break;
                    default:
                        context.Error(filter.LocationOf("typed_config"), $"{MessageSchemaName(filter.TypedConfig)} is not a network filter");
                        break;
                }
            }
        }
    }

    private static void ValidateConnectionManager(Context context, HttpConnectionManager hcm, HashSet<string> clusters)
    {
        if (string.IsNullOrEmpty(hcm.StatPrefix))
        {
            context.Error(hcm.LocationOf("stat_prefix"), "'stat_prefix' is required");
        }
        foreach (var range in hcm.InternalAddressConfig?.CidrRanges ?? [])
        {
            if (!IPAddress.TryParse(range.AddressPrefix, out var prefix))
            {
                context.Error(range.LocationOf("address_prefix"), $"malformed IP address: '{range.AddressPrefix}'");
            }
            else if (range.PrefixLen is { } length && length > (prefix.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32u : 128u))
            {
                context.Error(range.LocationOf("prefix_len"), $"'prefix_len' {length} is too long for {range.AddressPrefix}");
            }
        }
        if (hcm.MaxRequestHeadersKb is { } kb && kb is 0 or > 8192)
        {
            // Envoy's proto constraint: uint32 gt 0, lte 8192.
            context.Error(hcm.LocationOf("max_request_headers_kb"), $"'max_request_headers_kb' must be greater than 0 and at most 8192 (got {kb})");
        }
        if (hcm.CodecType == CodecType.Http3)
        {
            context.Error(hcm.LocationOf("codec_type"), "codec_type HTTP3 is not supported by this gateway yet");
        }
        if (hcm.RouteConfig is null)
        {
            context.Error(hcm.Location, "'route_config' is required ('rds' and 'scoped_routes' are not supported yet)");
        }
        else
        {
            ValidateRouteConfiguration(context, hcm.RouteConfig, clusters);
        }

        Filters.HttpFilterChainValidator.ValidateChain(hcm, context.Types, error => context.Errors.Add(error));
    }

    private static void ValidateRouteConfiguration(Context context, RouteConfiguration config, HashSet<string> clusters)
    {
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var vhostNames = new HashSet<string>(StringComparer.Ordinal);
        Filters.HttpFilterChainValidator.ValidatePerFilterConfigs(config.TypedPerFilterConfig, config, context.Types, context.Errors.Add);
        foreach (var vhost in config.VirtualHosts)
        {
            Filters.HttpFilterChainValidator.ValidatePerFilterConfigs(vhost.TypedPerFilterConfig, vhost, context.Types, context.Errors.Add);
            if (string.IsNullOrEmpty(vhost.Name))
            {
                context.Error(vhost.LocationOf("name"), "a virtual host needs a 'name'");
            }
            else if (!vhostNames.Add(vhost.Name))
            {
                context.Error(vhost.LocationOf("name"), $"duplicate virtual host name '{vhost.Name}' in route configuration '{config.Name}'");
            }
            if (vhost.Domains.Count == 0)
            {
                context.Error(vhost.LocationOf("domains"), "a virtual host needs at least one domain");
            }
            foreach (var domain in vhost.Domains)
            {
                if (domain.Length == 0)
                {
                    context.Error(vhost.LocationOf("domains"), "domains may not be empty strings");
                }
                else if (!domains.Add(domain))
                {
                    context.Error(vhost.LocationOf("domains"), $"Only unique values for domains are permitted. Duplicate entry of domain {domain} in route {config.Name}");
                }
            }
            if (vhost.RetryPolicy is { } retry)
            {
                ValidateRetryPolicy(context, retry);
            }
            foreach (var route in vhost.Routes)
            {
                Filters.HttpFilterChainValidator.ValidatePerFilterConfigs(route.TypedPerFilterConfig, route, context.Types, context.Errors.Add);
                ValidateRoute(context, route, clusters);
            }
        }
    }

    private static void ValidateRoute(Context context, Route route, HashSet<string> clusters)
    {
        if (route.Match is not { } match)
        {
            context.Error(route.LocationOf("match"), "'match' is required");
        }
        else
        {
            ValidateRouteMatch(context, match);
        }

        var actions = (route.Action is null ? 0 : 1) + (route.DirectResponse is null ? 0 : 1);
        if (actions != 1)
        {
            context.Error(route.Location, actions == 0
                ? "a route needs one action: 'route' or 'direct_response' ('redirect' is not supported yet)"
                : "'route' and 'direct_response' are alternatives; give only one");
        }
        if (route.Action is { } action)
        {
            if (string.IsNullOrEmpty(action.Cluster))
            {
                context.Error(action.LocationOf("cluster"), "'cluster' is required ('cluster_header' and 'weighted_clusters' are not supported yet)");
            }
            else if (!clusters.Contains(action.Cluster))
            {
                context.Error(action.LocationOf("cluster"), $"route: unknown cluster '{action.Cluster}'");
            }
            if (action.Timeout is { } timeout && timeout < TimeSpan.Zero)
            {
                context.Error(action.LocationOf("timeout"), "'timeout' may not be negative");
            }
            if (action.AutoHostRewrite == true && action.HostRewriteLiteral is not null)
            {
                context.Error(action.LocationOf("host_rewrite_literal"), "'auto_host_rewrite' and 'host_rewrite_literal' are alternatives; give only one");
            }
            if (action.RetryPolicy is { } retry)
            {
                ValidateRetryPolicy(context, retry);
            }
            if (action.PrefixRewrite is not null && route.Match?.SafeRegex is not null)
            {
                context.Error(action.LocationOf("prefix_rewrite"), "Cannot use prefix_rewrite with regex");
            }
        }
        if (route.DirectResponse is { } direct)
        {
            if (direct.Status is < 200 or > 599)
            {
                context.Error(direct.LocationOf("status"), $"'status' must be in [200, 599], got {direct.Status}");
            }
            if (direct.Body is { } body)
            {
                ValidateDataSource(context, body);
            }
        }
    }

    private static void ValidateRetryPolicy(Context context, RetryPolicy retry)
    {
        foreach (var name in (retry.RetryOn ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Translation.RetryPlan.NotSupportedConditions.Contains(name))
            {
                context.Error(retry.LocationOf("retry_on"), $"retry_on '{name}' is not supported by this gateway yet; supported: {string.Join(", ", Translation.RetryPlan.Conditions.Keys)}");
            }
            else if (!Translation.RetryPlan.Conditions.ContainsKey(name))
            {
                context.Error(retry.LocationOf("retry_on"), $"unknown retry_on value '{name}'; supported: {string.Join(", ", Translation.RetryPlan.Conditions.Keys)}");
            }
        }
        if (retry.PerTryTimeout is { } perTry && perTry < TimeSpan.Zero)
        {
            context.Error(retry.LocationOf("per_try_timeout"), "'per_try_timeout' may not be negative");
        }
        if (retry.RetryBackOff is { } backOff)
        {
            if (backOff.BaseInterval is not { } baseInterval || baseInterval <= TimeSpan.Zero)
            {
                context.Error(backOff.LocationOf("base_interval"), "'base_interval' is required and must be greater than 0s");
            }
            else if (backOff.MaxInterval is { } maxInterval && maxInterval < baseInterval)
            {
                context.Error(backOff.LocationOf("max_interval"), "retry_policy.max_interval must greater than or equal to the base_interval");
            }
        }
        foreach (var code in retry.RetriableStatusCodes)
        {
            if (code is < 100 or > 599)
            {
                context.Error(retry.LocationOf("retriable_status_codes"), $"retriable status code {code} is not an HTTP status (100-599)");
            }
        }
        foreach (var predicate in retry.RetryHostPredicate)
        {
            if (predicate.Name != Translation.EnvoyTranslator.PreviousHostsPredicateName)
            {
                context.Error(predicate.LocationOf("name"), $"retry host predicate '{predicate.Name}' is not supported by this gateway yet; supported: {Translation.EnvoyTranslator.PreviousHostsPredicateName}");
            }
            else if (predicate.TypedConfig is { } typed and not PreviousHostsPredicate)
            {
                context.Error(predicate.LocationOf("typed_config"), $"{MessageSchemaName(typed)} is not the configuration of {predicate.Name}");
            }
        }
        if (retry.HostSelectionRetryMaxAttempts is < 0)
        {
            context.Error(retry.LocationOf("host_selection_retry_max_attempts"), "'host_selection_retry_max_attempts' may not be negative");
        }
        foreach (var header in retry.RetriableHeaders)
        {
            ValidateHeaderMatcher(context, header);
        }
        foreach (var header in retry.RetriableRequestHeaders)
        {
            ValidateHeaderMatcher(context, header);
        }
        if (retry.RateLimitedRetryBackOff is { } rateLimited)
        {
            if (rateLimited.ResetHeaders.Count == 0)
            {
                context.Error(rateLimited.LocationOf("reset_headers"), "'reset_headers' needs at least one header");
            }
            foreach (var header in rateLimited.ResetHeaders)
            {
                if (string.IsNullOrEmpty(header.Name))
                {
                    context.Error(header.LocationOf("name"), "'name' is required");
                }
            }
            if (rateLimited.MaxInterval is { } max && max <= TimeSpan.Zero)
            {
                context.Error(rateLimited.LocationOf("max_interval"), "'max_interval' must be greater than 0s");
            }
        }
    }

    private static void ValidateRouteMatch(Context context, RouteMatch match)
    {
        var specifiers = (match.Prefix is null ? 0 : 1) + (match.Path is null ? 0 : 1) + (match.SafeRegex is null ? 0 : 1) + (match.PathSeparatedPrefix is null ? 0 : 1);
        if (specifiers != 1)
        {
            context.Error(match.Location, specifiers == 0
                ? "a route match needs one of 'prefix', 'path', 'safe_regex' or 'path_separated_prefix'"
                : "'prefix', 'path', 'safe_regex' and 'path_separated_prefix' are alternatives; give only one");
        }
        if (match.SafeRegex is { } regex)
        {
            ValidateRegex(context, regex);
        }
        if (match.PathSeparatedPrefix is { } separated
            && (!separated.StartsWith('/') || (separated.Length > 1 && separated.EndsWith('/')) || separated.AsSpan().IndexOfAny('?', '#') >= 0))
        {
            context.Error(match.LocationOf("path_separated_prefix"), "'path_separated_prefix' must start with '/', must not end with '/' and must not contain '?' or '#'");
        }
        foreach (var header in match.Headers)
        {
            ValidateHeaderMatcher(context, header);
        }
        foreach (var parameter in match.QueryParameters)
        {
            if (string.IsNullOrEmpty(parameter.Name))
            {
                context.Error(parameter.LocationOf("name"), "'name' is required");
            }
            if (parameter.StringMatch is not null && parameter.PresentMatch is not null)
            {
                context.Error(parameter.Location, "'string_match' and 'present_match' are alternatives; give only one");
            }
            if (parameter.StringMatch is { } stringMatch)
            {
                ValidateStringMatcher(context, stringMatch);
            }
        }
    }

    private static void ValidateHeaderMatcher(Context context, HeaderMatcher header)
    {
        if (string.IsNullOrEmpty(header.Name))
        {
            context.Error(header.LocationOf("name"), "'name' is required");
        }
        var specifiers = (header.ExactMatch is null ? 0 : 1) + (header.SafeRegexMatch is null ? 0 : 1) + (header.RangeMatch is null ? 0 : 1)
            + (header.PresentMatch is null ? 0 : 1) + (header.PrefixMatch is null ? 0 : 1) + (header.SuffixMatch is null ? 0 : 1)
            + (header.ContainsMatch is null ? 0 : 1) + (header.StringMatch is null ? 0 : 1);
        if (specifiers > 1)
        {
            context.Error(header.Location, "a header matcher takes only one of exact_match, safe_regex_match, range_match, present_match, prefix_match, suffix_match, contains_match, string_match");
        }
        if (header.SafeRegexMatch is { } regex)
        {
            ValidateRegex(context, regex);
        }
        if (header.StringMatch is { } stringMatch)
        {
            ValidateStringMatcher(context, stringMatch);
        }
        if (header.RangeMatch is { } range && range.Start >= range.End)
        {
            context.Error(header.LocationOf("range_match"), "range_match needs start < end");
        }
    }

    private static void ValidateStringMatcher(Context context, StringMatcher matcher)
    {
        var specifiers = (matcher.Exact is null ? 0 : 1) + (matcher.Prefix is null ? 0 : 1) + (matcher.Suffix is null ? 0 : 1)
            + (matcher.SafeRegex is null ? 0 : 1) + (matcher.Contains is null ? 0 : 1);
        if (specifiers != 1)
        {
            context.Error(matcher.Location, "a string matcher needs exactly one of exact, prefix, suffix, safe_regex, contains");
        }
        if ((matcher.Prefix?.Length == 0) || (matcher.Suffix?.Length == 0) || (matcher.Contains?.Length == 0))
        {
            context.Error(matcher.Location, "prefix, suffix and contains may not be empty");
        }
        if (matcher.SafeRegex is { } regex)
        {
            ValidateRegex(context, regex);
            if (matcher.IgnoreCase)
            {
                context.Error(matcher.LocationOf("ignore_case"), "ignore_case has no effect for safe_regex and is rejected, as Envoy does");
            }
        }
    }

    private static void ValidateRegex(Context context, RegexMatcher regex)
    {
        if (regex.Regex is null)
        {
            context.Error(regex.LocationOf("regex"), "'regex' is required");
            return;
        }
        if (Routing.EnvoyRegex.Validate(regex.Regex) is { } error)
        {
            context.Error(regex.LocationOf("regex"), error);
        }
    }

    private static void ValidateDataSource(Context context, DataSource source)
    {
        var specifiers = (source.Filename is null ? 0 : 1) + (source.InlineBytes is null ? 0 : 1) + (source.InlineString is null ? 0 : 1) + (source.EnvironmentVariable is null ? 0 : 1);
        if (specifiers != 1)
        {
            context.Error(source.Location, "a data source needs exactly one of filename, inline_bytes, inline_string, environment_variable");
            return;
        }
        if (source.Filename is { } file && !File.Exists(file))
        {
            context.Error(source.LocationOf("filename"), $"Invalid path: {file}");
        }
        if (source.EnvironmentVariable is { } variable && Environment.GetEnvironmentVariable(variable) is null)
        {
            context.Error(source.LocationOf("environment_variable"), $"Environment variable doesn't exist: {variable}");
        }
        if (source.InlineBytes is { } bytes && !Convert.TryFromBase64String(bytes, new byte[bytes.Length], out _))
        {
            context.Error(source.LocationOf("inline_bytes"), "'inline_bytes' must be base64");
        }
    }

    private static void ValidateCluster(Context context, Cluster cluster)
    {
        if (string.IsNullOrEmpty(cluster.Name))
        {
            context.Error(cluster.LocationOf("name"), "a cluster needs a 'name'");
        }
        var typeSupported = cluster.Type is not (DiscoveryType.Eds or DiscoveryType.OriginalDst);
        if (!typeSupported)
        {
            context.Error(cluster.LocationOf("type"), $"cluster type {EnumName(cluster.Type)} is not supported by this gateway yet; use STATIC, STRICT_DNS or LOGICAL_DNS");
        }
        if (cluster.LbPolicy == LbPolicy.ClusterProvided)
        {
            // The policy belongs to the cluster type (ORIGINAL_DST, cluster_type extensions): when the type is
            // the problem, the type's error says so; changing lb_policy would not make the cluster work.
            if (typeSupported)
            {
                context.Error(cluster.LocationOf("lb_policy"), $"lb_policy CLUSTER_PROVIDED is not valid for cluster type {EnumName(cluster.Type)}: only a cluster type that provides its load balancer (ORIGINAL_DST, a cluster_type extension) allows it, and this gateway supports none yet");
            }
        }
        else if (cluster.LbPolicy is not (LbPolicy.RoundRobin or LbPolicy.LeastRequest or LbPolicy.Random))
        {
            context.Error(cluster.LocationOf("lb_policy"), $"lb_policy {EnumName(cluster.LbPolicy)} is not supported by this gateway yet; use ROUND_ROBIN, LEAST_REQUEST or RANDOM");
        }
        if (cluster.ConnectTimeout is { } connectTimeout && connectTimeout <= TimeSpan.Zero)
        {
            context.Error(cluster.LocationOf("connect_timeout"), "'connect_timeout' must be greater than 0s");
        }
        if (cluster.DnsRefreshRate is { } refresh && refresh < TimeSpan.FromMilliseconds(1))
        {
            context.Error(cluster.LocationOf("dns_refresh_rate"), "'dns_refresh_rate' must be at least 1ms");
        }

        var hosts = 0;
        if (cluster.LoadAssignment is { } assignment)
        {
            foreach (var locality in assignment.Endpoints)
            {
                foreach (var lbEndpoint in locality.LbEndpoints)
                {
                    hosts++;
                    if (lbEndpoint.Endpoint?.Address?.SocketAddress is not { } socket)
                    {
                        context.Error(lbEndpoint.LocationOf("endpoint"), "an endpoint needs 'address.socket_address'");
                        continue;
                    }
                    if (string.IsNullOrEmpty(socket.Address))
                    {
                        context.Error(socket.LocationOf("address"), "'address' is required");
                    }
                    else if (cluster.Type == DiscoveryType.Static && !IPAddress.TryParse(socket.Address, out _))
                    {
                        context.Error(socket.LocationOf("address"), $"malformed IP address: {socket.Address} (STATIC clusters take IP addresses; use STRICT_DNS or LOGICAL_DNS for host names)");
                    }
                    if (socket.Protocol != SocketProtocol.Tcp)
                    {
                        context.Error(socket.LocationOf("protocol"), "only TCP endpoints are supported");
                    }
                    if (socket.PortValue is not { } port || port is 0 or > 65535)
                    {
                        context.Error(socket.LocationOf("port_value"), "'port_value' must be in 1-65535");
                    }
                }
            }
        }
        if (cluster.Type == DiscoveryType.LogicalDns && hosts != 1)
        {
            context.Error(cluster.LocationOf("load_assignment"), "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint");
        }
        if (cluster.CommonLbConfig?.HealthyPanicThreshold is { } panic && panic.Value is < 0 or > 100 or double.NaN)
        {
            context.Error(panic.LocationOf("value"), $"'healthy_panic_threshold' must be a percentage in [0, 100], not {panic.Value}");
        }
        foreach (var thresholds in cluster.CircuitBreakers?.Thresholds ?? [])
        {
            // Percent's proto constraint (envoy/type/v3/percent.proto): value in [0, 100].
            if (thresholds.RetryBudget?.BudgetPercent is { } budgetPercent && budgetPercent.Value is < 0 or > 100 or double.NaN)
            {
                context.Error(budgetPercent.LocationOf("value"), $"'budget_percent' must be a percentage in [0, 100], not {budgetPercent.Value.ToString(CultureInfo.InvariantCulture)}");
            }
        }
        if (cluster.OutlierDetection is { } outlier)
        {
            ValidateOutlierDetection(context, outlier);
        }
        for (var i = 0; i < cluster.HealthChecks.Count; i++)
        {
            if (i > 0)
            {
                context.Error(cluster.HealthChecks[i].Location, "only one health check per cluster is supported by this gateway yet");
            }
            ValidateHealthCheck(context, cluster.HealthChecks[i]);
        }
    }

    private static void ValidateOutlierDetection(Context context, OutlierDetection outlier)
    {
        // Envoy's proto constraints (outlier_detection.proto): durations gt 0, percentages lte 100.
        void Percentage(string field, uint? value)
        {
            if (value > 100)
            {
                context.Error(outlier.LocationOf(field), $"'{field}' must be a percentage in [0, 100], not {value}");
            }
        }

        void Positive(string field, TimeSpan? value)
        {
            if (value <= TimeSpan.Zero)
            {
                context.Error(outlier.LocationOf(field), $"'{field}' must be greater than 0s");
            }
        }

        Positive("interval", outlier.Interval);
        Positive("base_ejection_time", outlier.BaseEjectionTime);
        Positive("max_ejection_time", outlier.MaxEjectionTime);
        if (outlier.MaxEjectionTimeJitter < TimeSpan.Zero)
        {
            context.Error(outlier.LocationOf("max_ejection_time_jitter"), "'max_ejection_time_jitter' may not be negative");
        }
        Percentage("max_ejection_percent", outlier.MaxEjectionPercent);
        Percentage("enforcing_consecutive_5xx", outlier.EnforcingConsecutive5xx);
        Percentage("enforcing_success_rate", outlier.EnforcingSuccessRate);
        Percentage("enforcing_consecutive_gateway_failure", outlier.EnforcingConsecutiveGatewayFailure);
        Percentage("enforcing_consecutive_local_origin_failure", outlier.EnforcingConsecutiveLocalOriginFailure);
        Percentage("enforcing_local_origin_success_rate", outlier.EnforcingLocalOriginSuccessRate);
        Percentage("failure_percentage_threshold", outlier.FailurePercentageThreshold);
        Percentage("enforcing_failure_percentage", outlier.EnforcingFailurePercentage);
        Percentage("enforcing_failure_percentage_local_origin", outlier.EnforcingFailurePercentageLocalOrigin);
        if (outlier.SplitExternalLocalOriginErrors)
        {
            context.Error(outlier.LocationOf("split_external_local_origin_errors"),
                "'split_external_local_origin_errors: true' is not supported by this gateway yet; local-origin errors count as 5xx (503 for resets and connect failures, 504 for timeouts)");
        }
        // Envoy refuses the cluster (DetectorImpl::create); the default max is max(300s, base_ejection_time).
        if (outlier.MaxEjectionTime is { } max && max > TimeSpan.Zero
            && (outlier.BaseEjectionTime ?? Translation.OutlierDetectionPlan.DefaultBaseEjectionTime) is var baseTime && baseTime > TimeSpan.Zero && max < baseTime)
        {
            context.Error(outlier.LocationOf("max_ejection_time"), "outlier detector's max_ejection_time cannot be smaller than base_ejection_time");
        }
    }

    private static void ValidateHealthCheck(Context context, HealthCheck check)
    {
        RequirePositive(context, check, "timeout", check.Timeout, required: true);
        RequirePositive(context, check, "interval", check.Interval, required: true);
        RequirePositive(context, check, "no_traffic_interval", check.NoTrafficInterval, required: false);
        RequirePositive(context, check, "no_traffic_healthy_interval", check.NoTrafficHealthyInterval, required: false);
        RequirePositive(context, check, "unhealthy_interval", check.UnhealthyInterval, required: false);
        RequirePositive(context, check, "unhealthy_edge_interval", check.UnhealthyEdgeInterval, required: false);
        RequirePositive(context, check, "healthy_edge_interval", check.HealthyEdgeInterval, required: false);
        if (check.InitialJitter is { } initialJitter && initialJitter < TimeSpan.Zero)
        {
            context.Error(check.LocationOf("initial_jitter"), "'initial_jitter' may not be negative");
        }
        if (check.IntervalJitter is { } intervalJitter && intervalJitter < TimeSpan.Zero)
        {
            context.Error(check.LocationOf("interval_jitter"), "'interval_jitter' may not be negative");
        }
        if (check.UnhealthyThreshold is null)
        {
            context.Error(check.LocationOf("unhealthy_threshold"), "'unhealthy_threshold' is required");
        }
        if (check.HealthyThreshold is null)
        {
            context.Error(check.LocationOf("healthy_threshold"), "'healthy_threshold' is required");
        }
        if (check.HttpHealthCheck is not null && check.TcpHealthCheck is not null)
        {
            context.Error(check.Location, "a health check takes only one of http_health_check, tcp_health_check, grpc_health_check, custom_health_check");
            return;
        }
        if (check.TcpHealthCheck is { } tcp)
        {
            ValidateTcpHealthCheck(context, tcp);
            return;
        }
        if (check.HttpHealthCheck is not { } http)
        {
            context.Error(check.Location, "a health check needs one of http_health_check, tcp_health_check, grpc_health_check, custom_health_check (only http_health_check and tcp_health_check are supported by this gateway yet)");
            return;
        }
        if (string.IsNullOrEmpty(http.Path))
        {
            context.Error(http.LocationOf("path"), "'path' is required");
        }
        else if (http.Path.Any(c => char.IsControl(c) || c == ' '))
        {
            context.Error(http.LocationOf("path"), "'path' must be a valid HTTP header value without spaces");
        }
        if (http.Host is { } host && host.Any(char.IsControl))
        {
            context.Error(http.LocationOf("host"), "'host' must be a valid HTTP header value");
        }
        if (http.Method == RequestMethod.Connect)
        {
            context.Error(http.LocationOf("method"), "method CONNECT is not allowed for health checks");
        }
        ValidateStatusRanges(context, http.ExpectedStatuses, "expected");
        ValidateStatusRanges(context, http.RetriableStatuses, "retriable");
    }

    private static void ValidateTcpHealthCheck(Context context, TcpHealthCheck tcp)
    {
        if (tcp.Send is { } send)
        {
            ValidatePayload(context, send);
        }
        foreach (var payload in tcp.Receive)
        {
            ValidatePayload(context, payload);
        }
    }

    private static void ValidatePayload(Context context, HealthCheckPayload payload)
    {
        if ((payload.Text is null) == (payload.Binary is null))
        {
            context.Error(payload.Location, "a health check payload needs exactly one of text, binary");
            return;
        }
        // Envoy: text has min_len 1 and must decode (Hex::decode: even length, hex digits only).
        if (payload.Text is { } text && HealthCheckPayloads.TryDecodeHex(text) is null)
        {
            context.Error(payload.LocationOf("text"), $"invalid hex string '{text}'");
        }
        if (payload.Binary is { } binary && !Convert.TryFromBase64String(binary, new byte[binary.Length], out _))
        {
            context.Error(payload.LocationOf("binary"), "'binary' must be base64");
        }
    }

    private static void ValidateStatusRanges(Context context, List<Int64Range> ranges, string kind)
    {
        foreach (var range in ranges)
        {
            if (range.Start >= range.End)
            {
                context.Error(range.Location, $"Invalid http {kind} status range: expecting start < end, but found start={range.Start} and end={range.End}");
            }
            else if (range.Start < 100)
            {
                context.Error(range.LocationOf("start"), $"Invalid http {kind} status range: expecting start >= 100, but found start={range.Start}");
            }
            else if (range.End > 600)
            {
                context.Error(range.LocationOf("end"), $"Invalid http {kind} status range: expecting end <= 600, but found end={range.End}");
            }
        }
    }

    private static void RequirePositive(Context context, EnvoyMessage owner, string field, TimeSpan? value, bool required)
    {
        if (value is null)
        {
            if (required)
            {
                context.Error(owner.LocationOf(field), $"'{field}' is required");
            }
        }
        else if (value <= TimeSpan.Zero)
        {
            context.Error(owner.LocationOf(field), $"'{field}' must be greater than 0s");
        }
    }

    private static string MessageSchemaName(EnvoyMessage message) => MessageSchema.For(message.GetType()).FullName;

    private static string EnumName<T>(T value) where T : struct, Enum => EnvoyNames.ToSnakeCase(value.ToString()).ToUpperInvariant();

    private sealed class Context(EnvoyTypeRegistry types)
    {
        public EnvoyTypeRegistry Types { get; } = types;

        public List<ConfigError> Errors { get; } = [];

        public void Error(SourceLocation location, string message) => Errors.Add(new ConfigError(location, message));
    }
}
