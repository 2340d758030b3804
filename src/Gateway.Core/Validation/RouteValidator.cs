using Gateway.Configuration;
using Gateway.Routing;

namespace Gateway.Validation;

/// <summary>Checks a route: its match, one action, the route action's cluster reference and options, a direct response.</summary>
internal sealed class RouteValidator(ValidationContext context)
{
    private readonly MatcherValidator _matchers = new(context);
    private readonly RetryPolicyValidator _retryPolicies = new(context);

    /// <summary>Envoy's DEFAULT_MAX_DIRECT_RESPONSE_BODY_SIZE_BYTES.</summary>
    public const uint DefaultMaxDirectResponseBodySize = 4096;

    public void Validate(Route route, uint maxDirectResponseBodySize = DefaultMaxDirectResponseBodySize)
    {
        if (route.Match is not { } match)
        {
            context.Error(route, "match", "'match' is required");
        }
        else
        {
            _matchers.ValidateRouteMatch(match);
        }

        var actions = (route.Action is null ? 0 : 1) + (route.DirectResponse is null ? 0 : 1) + (route.Redirect is null ? 0 : 1);
        if (actions != 1)
        {
            context.Error(route, actions == 0
                ? "a route needs one action: 'route', 'redirect' or 'direct_response'"
                : "'route', 'redirect' and 'direct_response' are alternatives; give only one");
        }
        if (route.Redirect is { } redirect)
        {
            ValidateRedirect(redirect, route);
        }
        if (route.Action is { } action)
        {
            ValidateAction(action, route);
        }
        HeaderParser.Validate(route, "request_headers_to_add", route.RequestHeadersToAdd, "request_headers_to_remove", route.RequestHeadersToRemove, removeMayBeEmpty: false, context);
        HeaderParser.Validate(route, "response_headers_to_add", route.ResponseHeadersToAdd, "response_headers_to_remove", route.ResponseHeadersToRemove, removeMayBeEmpty: false, context);
        if (route.Decorator is { } decorator)
        {
            new TracingValidator(context).Validate(decorator);
        }
        if (route.Tracing is { } tracing)
        {
            new TracingValidator(context).Validate(tracing);
        }
        if (route.DirectResponse is { } direct)
        {
            if (direct.Status is < 200 or > 599)
            {
                context.Error(direct, "status", $"'status' must be in [200, 599], got {direct.Status}");
            }
            if (direct.Body is { } body && DataSources.Validate(context, body))
            {
                ValidateBodySize(body, maxDirectResponseBodySize);
            }
        }
    }

    /// <summary>The redirect's one-ofs, header-safe values (PGV's HTTP_HEADER_VALUE, not strict) and a prefix rewrite's match.</summary>
    private void ValidateRedirect(RedirectAction redirect, Route route)
    {
        if (redirect.HttpsRedirect && !string.IsNullOrEmpty(redirect.SchemeRedirect))
        {
            context.Error(redirect, "scheme_redirect", "'https_redirect' and 'scheme_redirect' are alternatives (a one-of); give only one");
        }
        if ((redirect.PathRedirect is null ? 0 : 1) + (redirect.PrefixRewrite is null ? 0 : 1) + (redirect.RegexRewrite is null ? 0 : 1) > 1)
        {
            context.Error(redirect, "'path_redirect', 'prefix_rewrite' and 'regex_rewrite' are alternatives (a one-of); give only one");
        }
        if (redirect.RegexRewrite is { } regexRewrite)
        {
            ValidateRegexRewrite(regexRewrite);
        }
        HeaderSafe(redirect, "host_redirect", redirect.HostRedirect);
        HeaderSafe(redirect, "path_redirect", redirect.PathRedirect);
        HeaderSafe(redirect, "prefix_rewrite", redirect.PrefixRewrite);
        HeaderSafe(redirect, "scheme_redirect", redirect.SchemeRedirect);
        if (redirect.PortRedirect > 65535)
        {
            context.Error(redirect, "port_redirect", $"'port_redirect' must be a port (at most 65535), got {redirect.PortRedirect}");
        }
        if (!Enum.IsDefined(redirect.ResponseCode))
        {
            context.Error(redirect, "response_code", $"'response_code' must be a defined RedirectResponseCode, got {(int)redirect.ResponseCode}");
        }
        if (redirect.PrefixRewrite is not null && route.Match?.SafeRegex is not null)
        {
            context.Error(redirect, "prefix_rewrite", "Cannot use prefix_rewrite with regex");
        }
    }

    /// <summary>
    /// <c>path_rewrite_policy</c>: a name, a valid <c>UriTemplateRewriteConfig</c> (Envoy's UriTemplateRewriterFactory), and the
    /// route's match a URI template defining every variable it uses (Envoy's UriTemplateRewriter::isCompatiblePathMatcher).
    /// </summary>
    private void ValidatePathRewritePolicy(PathRewritePolicy policy, PathMatchPolicy? matchPolicy)
    {
        if (string.IsNullOrEmpty(policy.Name))
        {
            context.Error(policy, "name", "'name' is required and may not be empty");
        }
        if (policy.TypedConfig is not UriTemplateRewriteConfig config)
        {
            if (policy.TypedConfig is null)
            {
                context.Error(policy, "typed_config", "'typed_config' is required (envoy.extensions.path.rewrite.uri_template.v3.UriTemplateRewriteConfig)");
            }
            return;
        }
        MatcherValidator.ValidatePathTemplateLength(context, config, "path_template_rewrite", config.PathTemplateRewrite);
        if (config.PathTemplateRewrite is not { Length: > 0 } rewrite)
        {
            return;
        }
        if (UriTemplateRewrite.Validate(rewrite) is { } error)
        {
            context.Error(config, "path_template_rewrite", $"path_rewrite_policy.path_template_rewrite {rewrite} is invalid: {error}");
            return;
        }
        if (matchPolicy?.TypedConfig is not UriTemplateMatchConfig match)
        {
            // A refused or missing match policy was reported where it stands.
            if (matchPolicy is null || (matchPolicy.TypedConfig is null && !matchPolicy.HasBindingErrors))
            {
                context.Error(policy, "unable to use envoy.path.rewrite.uri_template.uri_template_rewriter extension without envoy.path.match.uri_template.uri_template_matcher extension");
            }
            return;
        }
        if (match.PathTemplate is { Length: > 0 } template && UriTemplate.Validate(template) is null
            && !UriTemplateRewrite.UsesOnlyVariablesOf(rewrite, UriTemplate.FromValidated(template)))
        {
            context.Error(config, "path_template_rewrite", $"mismatch between variables in path_match_policy {template} and path_rewrite_policy {rewrite}");
        }
    }

    /// <summary>A <c>regex_rewrite</c>: the pattern is required and valid RE2, the substitution header-safe.</summary>
    private void ValidateRegexRewrite(PathRegexRewrite rewrite)
    {
        if (rewrite.Pattern is not { } pattern)
        {
            context.Error(rewrite, "pattern", "'pattern' is required");
        }
        else
        {
            _matchers.ValidateRegex(pattern);
        }
        HeaderSafe(rewrite, "substitution", rewrite.Substitution);
    }

    private void HeaderSafe(EnvoyMessage owner, string field, string? value)
    {
        if (value is not null && value.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
        {
            context.Error(owner, field, $"'{field}' may not contain NUL, CR or LF (HTTP_HEADER_VALUE)");
        }
    }

    private void ValidateWeightedClusters(WeightedClusters weighted, Route route)
    {
        if (weighted.Clusters.Count == 0)
        {
            context.Error(weighted, "clusters", "'clusters' must have at least one entry");
            return;
        }
        if (weighted.HasField("header_name") && weighted.HasField("use_hash_policy"))
        {
            context.Error(weighted, "use_hash_policy", "'header_name' and 'use_hash_policy' are a one-of (random_value_specifier); give only one");
        }
        ulong total = 0;
        foreach (var entry in weighted.Clusters)
        {
            // Envoy's validateWeightedClusterSpecifier: exactly one of name and cluster_header.
            var hasHeader = !string.IsNullOrEmpty(entry.ClusterHeader);
            if (string.IsNullOrEmpty(entry.Name) == !hasHeader)
            {
                if (!entry.HasBindingErrors)
                {
                    context.Error(entry, "name", hasHeader ? "Only one of name or cluster_header can be specified" : "At least one of name or cluster_header need to be specified");
                }
            }
            else if (!hasHeader && context.ValidateClusters && context.ClusterNamesComplete && !context.ClusterNames.Contains(entry.Name!))
            {
                context.Error(entry, "name", $"route: unknown weighted cluster '{entry.Name}'");
            }
            if (hasHeader && !TracingValidator.IsHeaderName(entry.ClusterHeader!))
            {
                context.Error(entry, "cluster_header", $"'cluster_header' must be a valid HTTP header name (got '{entry.ClusterHeader}')");
            }
            HeaderSafe(entry, "host_rewrite_literal", entry.HostRewriteLiteral);
            HeaderParser.Validate(entry, "request_headers_to_add", entry.RequestHeadersToAdd, "request_headers_to_remove", entry.RequestHeadersToRemove, removeMayBeEmpty: true, context);
            HeaderParser.Validate(entry, "response_headers_to_add", entry.ResponseHeadersToAdd, "response_headers_to_remove", entry.ResponseHeadersToRemove, removeMayBeEmpty: true, context);
            total += entry.Weight ?? 0;
        }
        if (total > uint.MaxValue)
        {
            context.Error(weighted, "clusters", $"The sum of weights of all weighted clusters of route {route.Name} exceeds {uint.MaxValue}");
        }
        else if (total == 0)
        {
            context.Error(weighted, "clusters", "Sum of weights in the weighted_cluster must be greater than 0.");
        }
        if (weighted.HeaderName is { } header && !TracingValidator.IsHeaderName(header))
        {
            context.Error(weighted, "header_name", $"'header_name' must be a valid HTTP header name (got '{header}')");
        }
    }

    private void ValidateAction(RouteAction action, Route route)
    {
        UpgradeConfigValidator.Validate(context, action);
        UpgradeConfigValidator.ValidateConnectRoute(context, route, action);
        var specifiers = (string.IsNullOrEmpty(action.Cluster) ? 0 : 1) + (action.ClusterHeader is null ? 0 : 1) + (action.WeightedClusters is null ? 0 : 1);
        if (specifiers == 0)
        {
            // A one-of (cluster, cluster_header, weighted_clusters, ...): a refused member was reported by the binder.
            if (!action.HasBindingErrors)
            {
                context.Error(action, "cluster", "one of 'cluster', 'cluster_header' or 'weighted_clusters' is required");
            }
        }
        else if (specifiers > 1)
        {
            context.Error(action, "cluster", "'cluster', 'cluster_header' and 'weighted_clusters' are a one-of; give only one");
        }
        if (!string.IsNullOrEmpty(action.Cluster) && !context.ClusterNames.Contains(action.Cluster) && context.ClusterNamesComplete && context.ValidateClusters)
        {
            context.Error(action, "cluster", $"route: unknown cluster '{action.Cluster}'");
        }
        if (action.ClusterHeader is { } clusterHeader && !TracingValidator.IsHeaderName(clusterHeader))
        {
            context.Error(action, "cluster_header", $"'cluster_header' must be a valid HTTP header name (got '{clusterHeader}')");
        }
        if (action.WeightedClusters is { } weighted)
        {
            ValidateWeightedClusters(weighted, route);
        }
        if (action.Timeout is { } timeout && timeout < TimeSpan.Zero)
        {
            context.Error(action, "timeout", "'timeout' may not be negative");
        }
        if (action.IdleTimeout is { } idle && idle < TimeSpan.Zero)
        {
            context.Error(action, "idle_timeout", "'idle_timeout' may not be negative");
        }
        if (action.MaxStreamDuration is { } duration)
        {
            foreach (var (field, value) in new[] { ("max_stream_duration", duration.Limit), ("grpc_timeout_header_max", duration.GrpcTimeoutHeaderMax), ("grpc_timeout_header_offset", duration.GrpcTimeoutHeaderOffset) })
            {
                if (value < TimeSpan.Zero)
                {
                    context.Error(duration, field, $"'{field}' may not be negative");
                }
            }
        }
        var hostRewrites = (action.AutoHostRewrite is null ? 0 : 1) + (action.HostRewriteLiteral is null ? 0 : 1)
            + (action.HostRewriteHeader is null ? 0 : 1) + (action.HostRewritePathRegex is null ? 0 : 1);
        if (hostRewrites > 1)
        {
            context.Error(action, "'host_rewrite_literal', 'auto_host_rewrite', 'host_rewrite_header' and 'host_rewrite_path_regex' are alternatives (a one-of); give only one");
        }
        HeaderSafe(action, "host_rewrite_literal", action.HostRewriteLiteral);
        if (action.HostRewriteHeader is { } hostHeader && (hostHeader.Length == 0 || hostHeader.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0))
        {
            context.Error(action, "host_rewrite_header", "'host_rewrite_header' must be a header name (HTTP_HEADER_NAME)");
        }
        if (action.HostRewritePathRegex is { } hostRegex)
        {
            ValidateRegexRewrite(hostRegex);
        }
        if (action.RetryPolicy is { } retry)
        {
            _retryPolicies.Validate(retry);
        }
        if (action.RegexRewrite is { } regexRewrite)
        {
            if (action.PrefixRewrite is not null)
            {
                context.Error(action, "regex_rewrite", "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy");
            }
            ValidateRegexRewrite(regexRewrite);
        }
        var rewriteConflict = action.PathRewritePolicy is not null && (!string.IsNullOrEmpty(action.PrefixRewrite) || action.RegexRewrite is not null);
        if (rewriteConflict)
        {
            context.Error(action, "path_rewrite_policy", "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy");
        }
        if (action.PathRewritePolicy is { } rewritePolicy)
        {
            ValidatePathRewritePolicy(rewritePolicy, route.Match?.PathMatchPolicy);
        }
        // Envoy checks this after the count above and stops at the first error: one report for one mistake.
        if (!rewriteConflict && !string.IsNullOrEmpty(action.PrefixRewrite) && route.Match?.PathMatchPolicy is not null)
        {
            context.Error(action, "prefix_rewrite", "Cannot use prefix_rewrite with matcher extension");
        }
        if (action.PrefixRewrite is not null && route.Match?.SafeRegex is not null)
        {
            context.Error(action, "prefix_rewrite", "Cannot use prefix_rewrite with regex");
        }
        ValidateMirrorPolicies(action.RequestMirrorPolicies);
        HashLbValidation.ValidateHashPolicies(context, action);
        foreach (var policy in action.HashPolicy)
        {
            if (policy.Header?.RegexRewrite is { } headerRewrite)
            {
                ValidateRegexRewrite(headerRewrite);
            }
        }
    }

    /// <summary>
    /// <c>request_mirror_policies</c> at any level: one cluster specifier each (Envoy's validateMirrorClusterSpecifier),
    /// a known cluster (validate_clusters, on for static route configurations), a header name, a fraction's default.
    /// </summary>
    public void ValidateMirrorPolicies(List<RequestMirrorPolicy> policies)
    {
        foreach (var policy in policies)
        {
            var cluster = string.IsNullOrEmpty(policy.Cluster) ? null : policy.Cluster;
            var header = string.IsNullOrEmpty(policy.ClusterHeader) ? null : policy.ClusterHeader;
            if (cluster is not null && header is not null)
            {
                context.Error(policy, $"Only one of cluster '{cluster}' or cluster_header '{header}' in request mirror policy can be specified");
            }
            else if (cluster is null && header is null)
            {
                context.Error(policy, "Exactly one of cluster or cluster_header in request mirror policy need to be specified");
            }
            if (cluster is not null && context.ValidateClusters && context.ClusterNamesComplete && !context.ClusterNames.Contains(cluster))
            {
                context.Error(policy, "cluster", $"route: unknown shadow cluster '{cluster}'");
            }
            if (header is not null && !TracingValidator.IsHeaderName(header))
            {
                context.Error(policy, "cluster_header", $"'cluster_header' must be a valid HTTP header name (got '{header}')");
            }
            if (policy.RuntimeFraction is { } fraction && fraction.DefaultValue is null && !fraction.HasBindingError("default_value") && !policy.HasBindingError("runtime_fraction"))
            {
                context.Error(fraction.LocationOf("default_value"), "'default_value' is required");
            }
        }
    }

    /// <summary>Envoy's DataSourceProvider::create with a maximum: a file is measured before it is read, other sources after.</summary>
    private void ValidateBodySize(DataSource source, uint max)
    {
        if (source.Filename is { } file)
        {
            if (File.Exists(file) && new FileInfo(file).Length is var size && size > max)
            {
                context.Error(source, "filename", $"file {file} size is {size} bytes; maximum is {max}");
            }
            return;
        }
        long length = source.InlineString is { } text ? System.Text.Encoding.UTF8.GetByteCount(text)
            : source.InlineBytes is { } bytes ? Convert.FromBase64String(bytes).Length
            : source.EnvironmentVariable is { } variable ? System.Text.Encoding.UTF8.GetByteCount(Environment.GetEnvironmentVariable(variable) ?? string.Empty)
            : 0;
        if (length > max)
        {
            context.Error(source, $"response body size is {length} bytes; maximum is {max}");
        }
    }
}
