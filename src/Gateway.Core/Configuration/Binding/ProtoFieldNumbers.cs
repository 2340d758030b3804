using System.Collections.Frozen;

namespace Gateway.Configuration;

/// <summary>
/// The protobuf field numbers (and one-of membership) of the configuration model's fields, from
/// Envoy's API protos. Protobuf's JSON printer writes fields in field-number order, and a field in a
/// one-of is printed whenever it is set, even to its default value, and the xDS client reads resources
/// off the wire by number; the model has neither, so this table (with <see cref="ProtoFieldAttribute"/>
/// on models outside it) supplies them to <see cref="MessageSchema"/> (a test checks that every model
/// field is numbered).
/// </summary>
internal static class ProtoFieldNumbers
{
    /// <summary>Where a field sits in its message.</summary>
    public readonly record struct FieldInfo(int Number, bool InOneOf);

    private static readonly FrozenDictionary<string, FrozenDictionary<string, FieldInfo>> Messages = Build();

    /// <summary>The field's number and one-of membership, or null when it is not in the table.</summary>
    public static FieldInfo? Find(string messageFullName, string fieldName)
        => Messages.TryGetValue(messageFullName, out var fields) && fields.TryGetValue(fieldName, out var info) ? info : null;

    private static FrozenDictionary<string, FrozenDictionary<string, FieldInfo>> Build()
    {
        var messages = new Dictionary<string, FrozenDictionary<string, FieldInfo>>(StringComparer.Ordinal);

        void Add(string message, params (string Name, int Number, bool OneOf)[] fields)
            => messages[message] = fields.ToFrozenDictionary(f => f.Name, f => new FieldInfo(f.Number, f.OneOf), StringComparer.Ordinal);

        const bool O = true;
        const bool N = false;

        Add("envoy.config.bootstrap.v3.Bootstrap", ("node", 1, N), ("static_resources", 2, N), ("dynamic_resources", 3, N), ("admin", 12, N));
        Add("envoy.config.core.v3.Node",
            ("id", 1, N), ("cluster", 2, N), ("metadata", 3, N), ("locality", 4, N), ("user_agent_name", 6, N), ("user_agent_version", 7, O),
            ("user_agent_build_version", 8, O), ("extensions", 9, N), ("client_features", 10, N), ("listening_addresses", 11, N), ("dynamic_parameters", 12, N));
        Add("envoy.config.core.v3.Metadata", ("filter_metadata", 1, N), ("typed_filter_metadata", 2, N));
        Add("envoy.config.core.v3.Locality", ("region", 1, N), ("zone", 2, N), ("sub_zone", 3, N));
        Add("envoy.config.bootstrap.v3.Bootstrap.StaticResources", ("listeners", 1, N), ("clusters", 2, N), ("secrets", 3, N));
        Add("envoy.config.bootstrap.v3.Admin", ("access_log_path", 1, N), ("profile_path", 2, N), ("address", 3, N), ("socket_options", 4, N), ("access_log", 5, N));
        Add("envoy.config.core.v3.Address", ("socket_address", 1, O), ("pipe", 2, O), ("envoy_internal_address", 3, O));
        Add("envoy.config.core.v3.SocketAddress", ("protocol", 1, N), ("address", 2, N), ("port_value", 3, O), ("named_port", 4, O), ("resolver_name", 5, N), ("ipv4_compat", 6, N));
        Add("envoy.config.cluster.v3.Cluster",
            ("name", 1, N), ("type", 2, O), ("eds_cluster_config", 3, N), ("connect_timeout", 4, N), ("lb_policy", 6, N),
            ("health_checks", 8, N), ("circuit_breakers", 10, N), ("dns_refresh_rate", 16, N), ("outlier_detection", 19, N), ("dns_lookup_family", 17, N), ("metadata", 25, N), ("common_lb_config", 27, N), ("alt_stat_name", 28, N), ("load_assignment", 33, N), ("cluster_type", 38, O));
        Add("envoy.config.cluster.v3.OutlierDetection",
            ("consecutive_5xx", 1, N), ("interval", 2, N), ("base_ejection_time", 3, N), ("max_ejection_percent", 4, N),
            ("enforcing_consecutive_5xx", 5, N), ("enforcing_success_rate", 6, N), ("success_rate_minimum_hosts", 7, N),
            ("success_rate_request_volume", 8, N), ("success_rate_stdev_factor", 9, N), ("consecutive_gateway_failure", 10, N),
            ("enforcing_consecutive_gateway_failure", 11, N), ("split_external_local_origin_errors", 12, N),
            ("consecutive_local_origin_failure", 13, N), ("enforcing_consecutive_local_origin_failure", 14, N),
            ("enforcing_local_origin_success_rate", 15, N), ("failure_percentage_threshold", 16, N), ("enforcing_failure_percentage", 17, N),
            ("enforcing_failure_percentage_local_origin", 18, N), ("failure_percentage_minimum_hosts", 19, N),
            ("failure_percentage_request_volume", 20, N), ("max_ejection_time", 21, N), ("max_ejection_time_jitter", 22, N),
            ("successful_active_health_check_uneject_host", 23, N), ("monitors", 24, N), ("always_eject_one_host", 25, N));
        Add("envoy.config.cluster.v3.Cluster.CommonLbConfig", ("healthy_panic_threshold", 1, N), ("locality_weighted_lb_config", 3, O));
        Add("envoy.config.endpoint.v3.ClusterLoadAssignment.Policy", ("drop_overloads", 2, N), ("overprovisioning_factor", 3, N), ("endpoint_stale_after", 4, N), ("weighted_priority_health", 6, N));
        Add("envoy.config.endpoint.v3.ClusterLoadAssignment.Policy.DropOverload", ("category", 1, N), ("drop_percentage", 2, N));
        Add("envoy.type.v3.Percent", ("value", 1, N));
        Add("envoy.config.endpoint.v3.ClusterLoadAssignment", ("cluster_name", 1, N), ("endpoints", 2, N), ("policy", 4, N), ("named_endpoints", 5, N));
        Add("envoy.config.endpoint.v3.LocalityLbEndpoints", ("locality", 1, N), ("lb_endpoints", 2, N), ("load_balancing_weight", 3, N), ("priority", 5, N));
        Add("envoy.config.endpoint.v3.LbEndpoint", ("endpoint", 1, O), ("health_status", 2, N), ("metadata", 3, N), ("load_balancing_weight", 4, N), ("endpoint_name", 5, O));
        Add("envoy.config.endpoint.v3.Endpoint", ("address", 1, N), ("health_check_config", 2, N), ("hostname", 3, N), ("additional_addresses", 4, N));
        Add("envoy.config.listener.v3.Listener", ("name", 1, N), ("address", 2, N), ("filter_chains", 3, N), ("stat_prefix", 28, N));
        Add("envoy.config.listener.v3.FilterChain", ("filter_chain_match", 1, N), ("filters", 3, N), ("name", 7, N));
        Add("envoy.config.listener.v3.Filter", ("name", 1, N), ("typed_config", 4, O), ("config_discovery", 5, O));
        Add("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            ("codec_type", 1, N), ("stat_prefix", 2, N), ("rds", 3, O), ("route_config", 4, O), ("http_filters", 5, N), ("server_name", 10, N),
            ("generate_request_id", 15, N), ("scoped_routes", 31, O), ("preserve_external_request_id", 32, N),
            ("internal_address_config", 25, N), ("server_header_transformation", 34, N), ("always_set_request_id_in_response", 37, N),
            ("normalize_path", 30, N), ("merge_slashes", 33, N), ("path_with_escaped_slashes_action", 45, N), ("max_request_headers_kb", 29, N),
            ("use_remote_address", 14, N), ("xff_num_trusted_hops", 19, N), ("skip_xff_append", 21, N), ("via", 22, N), ("request_id_extension", 36, N),
            ("access_log_flush_interval", 54, N), ("flush_access_log_on_new_request", 55, N), ("access_log_options", 56, N));
        Add("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.HcmAccessLogOptions",
            ("access_log_flush_interval", 1, N), ("flush_access_log_on_new_request", 2, N), ("flush_log_on_tunnel_successfully_established", 3, N));
        Add("envoy.extensions.filters.network.http_connection_manager.v3.RequestIDExtension", ("typed_config", 1, N));
        Add("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig", ("unix_sockets", 1, N), ("cidr_ranges", 2, N));
        Add("envoy.config.core.v3.CidrRange", ("address_prefix", 1, N), ("prefix_len", 2, N));
        Add("envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
            ("name", 1, N), ("typed_config", 4, O), ("config_discovery", 5, O), ("is_optional", 6, N), ("disabled", 7, N));
        Add("envoy.extensions.filters.http.router.v3.Router", ("dynamic_stats", 1, N), ("start_child_span", 2, N), ("upstream_log", 3, N), ("suppress_envoy_headers", 4, N), ("upstream_log_options", 9, N));
        Add("envoy.extensions.filters.http.router.v3.Router.UpstreamAccessLogOptions", ("flush_upstream_log_on_upstream_stream", 1, N), ("upstream_log_flush_interval", 2, N));
        Add("envoy.config.route.v3.RouteConfiguration", ("name", 1, N), ("virtual_hosts", 2, N), ("internal_only_headers", 3, N), ("response_headers_to_add", 4, N),
            ("response_headers_to_remove", 5, N), ("request_headers_to_add", 6, N), ("request_headers_to_remove", 8, N), ("most_specific_header_mutations_wins", 10, N),
            ("request_mirror_policies", 13, N), ("ignore_port_in_host_matching", 14, N), ("typed_per_filter_config", 16, N), ("metadata", 17, N));
        Add("envoy.config.route.v3.VirtualHost", ("name", 1, N), ("domains", 2, N), ("routes", 3, N), ("require_tls", 4, N), ("virtual_clusters", 5, N), ("request_headers_to_add", 7, N),
            ("response_headers_to_add", 10, N), ("response_headers_to_remove", 11, N), ("request_headers_to_remove", 13, N), ("include_request_attempt_count", 14, N),
            ("typed_per_filter_config", 15, N), ("retry_policy", 16, N), ("include_attempt_count_in_response", 19, N), ("request_mirror_policies", 22, N), ("metadata", 24, N));
        Add("envoy.config.route.v3.Route", ("match", 1, N), ("route", 2, O), ("redirect", 3, O), ("metadata", 4, N), ("direct_response", 7, O),
            ("request_headers_to_add", 9, N), ("response_headers_to_add", 10, N), ("response_headers_to_remove", 11, N), ("request_headers_to_remove", 12, N),
            ("typed_per_filter_config", 13, N), ("name", 14, N), ("stat_prefix", 19, N));
        Add("envoy.config.route.v3.VirtualCluster", ("name", 2, N), ("headers", 4, N));
        Add("envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions");
        Add("envoy.type.matcher.v3.MetadataMatcher", ("filter", 1, N), ("path", 2, N), ("value", 3, N), ("invert", 4, N));
        Add("envoy.type.matcher.v3.MetadataMatcher.PathSegment", ("key", 1, O));
        Add("envoy.type.matcher.v3.ValueMatcher", ("null_match", 1, O), ("double_match", 2, O), ("string_match", 3, O), ("bool_match", 4, O),
            ("present_match", 5, O), ("list_match", 6, O), ("or_match", 7, O));
        Add("envoy.type.matcher.v3.ValueMatcher.NullMatch");
        Add("envoy.type.matcher.v3.DoubleMatcher", ("range", 1, O), ("exact", 2, O));
        Add("envoy.type.v3.DoubleRange", ("start", 1, N), ("end", 2, N));
        Add("envoy.type.matcher.v3.ListMatcher", ("one_of", 1, O));
        Add("envoy.type.matcher.v3.OrMatcher", ("value_matchers", 1, N));
        Add("envoy.config.route.v3.FilterConfig", ("config", 1, N), ("is_optional", 2, N), ("disabled", 3, N));
        Add("envoy.config.route.v3.RouteMatch",
            ("prefix", 1, O), ("path", 2, O), ("case_sensitive", 4, N), ("headers", 6, N), ("query_parameters", 7, N),
            ("grpc", 8, N), ("runtime_fraction", 9, N), ("safe_regex", 10, O), ("dynamic_metadata", 13, N), ("connect_matcher", 12, O), ("path_separated_prefix", 14, O), ("path_match_policy", 15, O));
        Add("envoy.config.route.v3.RouteAction",
            ("cluster", 1, O), ("cluster_header", 2, O), ("weighted_clusters", 3, O), ("prefix_rewrite", 5, N), ("host_rewrite_literal", 6, O),
            ("auto_host_rewrite", 7, O), ("timeout", 8, N), ("retry_policy", 9, N), ("priority", 11, N), ("idle_timeout", 24, N), ("host_rewrite_header", 29, O), ("request_mirror_policies", 30, N), ("host_rewrite_path_regex", 35, O), ("max_stream_duration", 36, N),
            ("cluster_not_found_response_code", 20, N));
        Add("envoy.config.route.v3.WeightedCluster", ("clusters", 1, N), ("runtime_key_prefix", 2, N), ("total_weight", 3, N), ("header_name", 4, O), ("use_hash_policy", 5, O));
        Add("envoy.config.route.v3.WeightedCluster.ClusterWeight", ("name", 1, N), ("weight", 2, N), ("request_headers_to_add", 4, N), ("response_headers_to_add", 5, N),
            ("response_headers_to_remove", 6, N), ("request_headers_to_remove", 9, N), ("typed_per_filter_config", 10, N), ("host_rewrite_literal", 11, O), ("cluster_header", 12, N));
        Add("envoy.config.route.v3.RouteAction.MaxStreamDuration", ("max_stream_duration", 1, N), ("grpc_timeout_header_max", 2, N), ("grpc_timeout_header_offset", 3, N));
        Add("envoy.config.route.v3.RetryPolicy",
            ("retry_on", 1, N), ("num_retries", 2, N), ("per_try_timeout", 3, N), ("retry_priority", 4, N), ("retry_host_predicate", 5, N),
            ("host_selection_retry_max_attempts", 6, N), ("retriable_status_codes", 7, N), ("retry_back_off", 8, N), ("retriable_headers", 9, N),
            ("retriable_request_headers", 10, N), ("rate_limited_retry_back_off", 11, N), ("retry_options_predicates", 12, N), ("per_try_idle_timeout", 13, N));
        Add("envoy.config.route.v3.RetryPolicy.RetryHostPredicate", ("name", 1, N), ("typed_config", 3, O));
        Add("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate");
        Add("envoy.config.route.v3.RetryPolicy.RateLimitedRetryBackOff", ("reset_headers", 1, N), ("max_interval", 2, N));
        Add("envoy.config.route.v3.RetryPolicy.ResetHeader", ("name", 1, N), ("format", 2, N));
        Add("envoy.config.cluster.v3.CircuitBreakers", ("thresholds", 1, N), ("per_host_thresholds", 2, N));
        Add("envoy.config.cluster.v3.CircuitBreakers.Thresholds",
            ("priority", 1, N), ("max_connections", 2, N), ("max_pending_requests", 3, N), ("max_requests", 4, N), ("max_retries", 5, N), ("track_remaining", 6, N),
            ("max_connection_pools", 7, N), ("retry_budget", 8, N));
        Add("envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget", ("budget_percent", 1, N), ("min_retry_concurrency", 2, N));
        Add("envoy.config.route.v3.RetryPolicy.RetryBackOff", ("base_interval", 1, N), ("max_interval", 2, N));
        Add("envoy.config.route.v3.DirectResponseAction", ("status", 1, N), ("body", 2, N));
        Add("envoy.config.core.v3.DataSource", ("filename", 1, O), ("inline_bytes", 2, O), ("inline_string", 3, O), ("environment_variable", 4, O));
        Add("envoy.type.matcher.v3.RegexMatcher", ("google_re2", 1, O), ("regex", 2, N));
        Add("envoy.type.matcher.v3.RegexMatcher.GoogleRE2", ("max_program_size", 1, N));
        Add("envoy.type.matcher.v3.StringMatcher",
            ("exact", 1, O), ("prefix", 2, O), ("suffix", 3, O), ("safe_regex", 5, O), ("ignore_case", 6, N), ("contains", 7, O), ("custom", 8, O));
        Add("envoy.config.route.v3.HeaderMatcher",
            ("name", 1, N), ("exact_match", 4, O), ("range_match", 6, O), ("present_match", 7, O), ("invert_match", 8, N), ("prefix_match", 9, O),
            ("suffix_match", 10, O), ("safe_regex_match", 11, O), ("contains_match", 12, O), ("string_match", 13, O), ("treat_missing_header_as_empty", 14, N));
        Add("envoy.config.core.v3.HealthCheck",
            ("timeout", 1, N), ("interval", 2, N), ("interval_jitter", 3, N), ("unhealthy_threshold", 4, N), ("healthy_threshold", 5, N),
            ("alt_port", 6, N), ("reuse_connection", 7, N), ("http_health_check", 8, O), ("tcp_health_check", 9, O), ("grpc_health_check", 11, O),
            ("no_traffic_interval", 12, N), ("custom_health_check", 13, O), ("unhealthy_interval", 14, N), ("unhealthy_edge_interval", 15, N),
            ("healthy_edge_interval", 16, N), ("event_log_path", 17, N), ("interval_jitter_percent", 18, N), ("always_log_health_check_failures", 19, N),
            ("initial_jitter", 20, N), ("tls_options", 21, N), ("event_service", 22, N), ("transport_socket_match_criteria", 23, N),
            ("no_traffic_healthy_interval", 24, N), ("event_logger", 25, N), ("always_log_health_check_success", 26, N));
        Add("envoy.config.core.v3.HealthCheck.HttpHealthCheck",
            ("host", 1, N), ("path", 2, N), ("send", 3, N), ("receive", 4, N), ("request_headers_to_add", 6, N), ("request_headers_to_remove", 8, N),
            ("expected_statuses", 9, N), ("codec_client_type", 10, N), ("service_name_matcher", 11, N), ("retriable_statuses", 12, N),
            ("method", 13, N), ("response_buffer_size", 14, N));
        Add("envoy.config.core.v3.HealthCheck.TcpHealthCheck", ("send", 1, N), ("receive", 2, N), ("proxy_protocol_config", 3, N));
        Add("envoy.config.core.v3.HealthCheck.Payload", ("text", 1, O), ("binary", 2, O));
        Add("envoy.type.v3.Int64Range", ("start", 1, N), ("end", 2, N));
        Add("envoy.config.route.v3.QueryParameterMatcher", ("name", 1, N), ("string_match", 5, O), ("present_match", 6, O));
        return messages.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
