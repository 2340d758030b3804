using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Listeners;
using Gateway.Routing;

namespace Gateway.Validation;

/// <summary>Checks an <c>HttpConnectionManager</c>: its own settings, its route configuration and its HTTP filters.</summary>
internal sealed class HttpConnectionManagerValidator(ValidationContext context)
{
    private readonly RouteConfigurationValidator _routes = new(context);
    private readonly HttpFiltersValidator _filters = new(context);

    public void Validate(HttpConnectionManager hcm)
    {
        if (string.IsNullOrEmpty(hcm.StatPrefix))
        {
            context.Error(hcm, "stat_prefix", "'stat_prefix' is required");
        }
        if (hcm.SchemeHeaderTransformation is { SchemeToOverwrite: { } scheme } transformation && scheme is not ("http" or "https"))
        {
            // The proto's constraint (validate.rules string.in).
            context.Error(transformation, "scheme_to_overwrite", $"'scheme_to_overwrite': '{scheme}' must be in list [http, https]");
        }
        if (hcm.StripMatchingHostPort && hcm.StripAnyHostPort)
        {
            context.Error(hcm, "strip_any_host_port", "Error: Only one of `strip_matching_host_port` or `strip_any_host_port` can be set.");
        }
        if (hcm.LocalReplyConfig is { } localReply)
        {
            ValidateLocalReply(localReply);
        }
        UpgradeConfigValidator.Validate(context, hcm);
        if (hcm.InternalAddressConfig is { } internalAddresses)
        {
            CidrRanges.Validate(context, internalAddresses.CidrRanges);
        }
        if (hcm.Via is { } via && via.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
        {
            // Envoy's proto constraint: well_known_regex HTTP_HEADER_VALUE, strict false.
            context.Error(hcm, "via", "'via' must not contain NUL, CR or LF");
        }
        if (hcm.RequestIdExtension is { TypedConfig: null } extension)
        {
            context.Error(extension, "typed_config", "'typed_config' is required (envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig)");
        }
        if (hcm.MaxRequestHeadersKb is { } kb && kb is 0 or > 8192)
        {
            // Envoy's proto constraint: uint32 gt 0, lte 8192.
            context.Error(hcm, "max_request_headers_kb", $"'max_request_headers_kb' must be greater than 0 and at most 8192 (got {kb})");
        }
        foreach (var (field, value) in new[] { ("stream_idle_timeout", hcm.StreamIdleTimeout), ("request_timeout", hcm.RequestTimeout), ("request_headers_timeout", hcm.RequestHeadersTimeout), ("delayed_close_timeout", hcm.DelayedCloseTimeout), ("drain_timeout", hcm.DrainTimeout) })
        {
            if (value is { } duration && duration < TimeSpan.Zero)
            {
                context.Error(hcm, field, $"'{field}' may not be negative");
            }
        }
        ValidateCommonOptions(context, hcm);
        DownstreamHttp2Validator.Validate(context, hcm);
        ValidateOriginalIpDetection(hcm);
        if (hcm.HttpProtocolOptions?.HeaderKeyFormat is { ProperCaseWords: null } keyFormat && !keyFormat.HasBindingError("stateful_formatter"))
        {
            // The proto's one-of is required.
            context.Error(keyFormat, "proper_case_words", "Proto constraint validation failed (HeaderKeyFormatValidationError.HeaderFormat: value is required)");
        }
        if (hcm.HttpProtocolOptions is { DefaultHostForHttp10: { Length: > 0 } defaultHost } http1 && !IsHostValue(defaultHost))
        {
            context.Error(http1, "default_host_for_http_10", $"'default_host_for_http_10' must be a valid Host value (got '{defaultHost}')");
        }
        if (hcm.RequestHeadersTimeout is { } headersTimeout && headersTimeout > TimeSpan.Zero)
        {
            context.ServerWide(hcm, "request_headers_timeout", DurationText(headersTimeout));
        }
        if (hcm.CodecType == CodecType.Http3)
        {
            context.Error(hcm, "codec_type", "codec_type HTTP3 is not supported by this gateway yet");
        }
        if (hcm.RouteConfig is not null && hcm.Rds is not null)
        {
            context.Error(hcm, "rds", "only one of 'route_config' and 'rds' may be set (the route_specifier one-of)");
        }
        else if (hcm.RouteConfig is not null)
        {
            _routes.Validate(hcm.RouteConfig);
        }
        else if (hcm.Rds is { } rds)
        {
            if (rds.ConfigSource is not { } source)
            {
                if (!rds.HasBindingError("config_source"))
                {
                    context.Error(rds, "config_source", "Proto constraint validation failed (RdsValidationError.ConfigSource: value is required)");
                }
            }
            else
            {
                ConfigSourceValidator.Validate(context, source, "rds");
            }
        }
        else if (!hcm.HasBindingError("rds") && !hcm.HasBindingError("route_config"))
        {
            // A one-of (route_config, rds, scoped_routes): nothing to add when binding refused one of them.
            context.Error(hcm, "one of 'route_config' and 'rds' is required ('scoped_routes' is not supported yet)");
        }
        _filters.Validate(hcm);
        if (hcm.Tracing is { } tracing)
        {
            new TracingValidator(context).Validate(tracing);
        }
        var accessLogs = new AccessLogValidator(context);
        accessLogs.Validate(hcm.AccessLog);
        if (hcm.AccessLogOptions is not null && hcm.FlushAccessLogOnNewRequest)
        {
            // Envoy's HttpConnectionManagerConfig: the deprecated field set to true and the options are alternatives.
            context.Error(hcm, "flush_access_log_on_new_request", "Only one of flush_access_log_on_new_request or access_log_options can be specified.");
        }
        if (hcm.AccessLogOptions is not null && hcm.AccessLogFlushInterval is not null)
        {
            context.Error(hcm, "access_log_flush_interval", "Only one of access_log_flush_interval or access_log_options can be specified.");
        }
        CheckFlushInterval(hcm, "access_log_flush_interval", hcm.AccessLogFlushInterval);
        if (hcm.AccessLogOptions is { } options)
        {
            CheckFlushInterval(options, "access_log_flush_interval", options.AccessLogFlushInterval);
        }
        foreach (var filter in hcm.HttpFilters)
        {
            if (filter.TypedConfig is RouterFilterConfig router)
            {
                accessLogs.Validate(router.UpstreamLog);
                if (router.UpstreamLogOptions is { } upstreamOptions)
                {
                    CheckFlushInterval(upstreamOptions, "upstream_log_flush_interval", upstreamOptions.UpstreamLogFlushInterval);
                }
            }
        }
    }

    /// <summary>Envoy's proto constraint on the periodic log intervals: <c>gte {nanos: 1000000}</c>.</summary>
    private void CheckFlushInterval(EnvoyMessage message, string field, TimeSpan? interval)
    {
        if (interval is { } value && value < TimeSpan.FromMilliseconds(1))
        {
            context.Error(message, field, $"'{field}' must be at least 1ms");
        }
    }

    /// <summary>Envoy's LocalReplyConfig constraints: each mapper's filter required, its status in [200, 600), at most 1000 headers; formats compile.</summary>
    private void ValidateLocalReply(LocalReplyConfig config)
    {
        var logs = new AccessLogValidator(context);
        foreach (var mapper in config.Mappers)
        {
            if (mapper.Filter is { } filter)
            {
                logs.ValidateFilter(filter);
            }
            else if (!mapper.HasBindingError("filter"))
            {
                context.Error(mapper, "filter", "Proto constraint validation failed (ResponseMapperValidationError.Filter: value is required)");
            }
            if (mapper.StatusCode is { } status && status is < 200 or >= 600)
            {
                context.Error(mapper, "status_code", "Proto constraint validation failed (ResponseMapperValidationError.StatusCode: value must be inside range [200, 600))");
            }
            if (mapper.Body is { } body)
            {
                DataSources.Validate(context, body);
            }
            if (mapper.HeadersToAdd.Count > 1000)
            {
                context.Error(mapper, "headers_to_add", "Proto constraint validation failed (ResponseMapperValidationError.HeadersToAdd: value must contain no more than 1000 item(s))");
            }
            HeaderParser.Validate(mapper, "headers_to_add", mapper.HeadersToAdd, "headers_to_remove", [], removeMayBeEmpty: true, context);
            if (mapper.BodyFormatOverride is { } format)
            {
                SubstitutionFormatter.Compile(format, LocalReplyRewriter.DefaultFormat, context);
            }
        }
        if (config.BodyFormat is { } bodyFormat)
        {
            SubstitutionFormatter.Compile(bodyFormat, LocalReplyRewriter.DefaultFormat, context);
        }
    }

    /// <summary>
    /// <c>common_http_protocol_options</c> on a connection manager: <c>idle_timeout</c> and <c>max_headers_count</c> are
    /// Kestrel's server-wide limits, so every connection manager's value (its default when unset) must agree;
    /// the other limits are per connection manager; <c>max_response_headers_kb</c> is refused.
    /// </summary>
    private static void ValidateCommonOptions(ValidationContext context, HttpConnectionManager hcm)
    {
        var options = hcm.CommonHttpProtocolOptions;
        if (options is not null)
        {
            if (options.HasField("max_response_headers_kb"))
            {
                // An upstream limit: what it would mean for the gateway's own responses is not built.
                context.Error(options, "max_response_headers_kb", "field 'max_response_headers_kb' of envoy.config.core.v3.HttpProtocolOptions is not supported by this gateway yet on a connection manager");
            }
            foreach (var (field, value) in new[] { ("idle_timeout", options.IdleTimeout), ("max_stream_duration", options.MaxStreamDuration), ("max_connection_duration", options.MaxConnectionDuration) })
            {
                if (value is { } negative && negative < TimeSpan.Zero)
                {
                    context.Error(options, field, $"'{field}' may not be negative");
                }
            }
            if (options.MaxHeadersCount is 0)
            {
                // The proto's constraint (uint32 gte 1).
                context.Error(options, "max_headers_count", "'max_headers_count' must be greater than or equal to 1");
            }
        }
        // An unset value is Envoy's default, located at the connection manager's (absent) options.
        context.ServerWide(options, "idle_timeout", "idle_timeout", options?.IdleTimeout is { } idle ? DurationText(idle) : null,
            hcm, "common_http_protocol_options", DurationText(Translation.ConnectionManagerPlan.DefaultIdleTimeout));
        context.ServerWide(options, "max_headers_count", "max_headers_count", options?.MaxHeadersCount?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            hcm, "common_http_protocol_options", Listeners.DownstreamRequestValidator.MaxRequestHeadersCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// <c>original_ip_detection_extensions</c>: Envoy's HttpConnectionManagerConfig refuses them with use_remote_address or
    /// xff_num_trusted_hops; each needs its typed config, whose proto constraints are checked here.
    /// </summary>
    private void ValidateOriginalIpDetection(HttpConnectionManager hcm)
    {
        if (hcm.OriginalIpDetectionExtensions.Count == 0)
        {
            return;
        }
        if (hcm.UseRemoteAddress == true)
        {
            context.Error(hcm, "original_ip_detection_extensions", "Original IP detection extensions and use_remote_address may not be mixed");
        }
        else if (hcm.XffNumTrustedHops > 0)
        {
            context.Error(hcm, "original_ip_detection_extensions", "Original IP detection extensions and xff_num_trusted_hops may not be mixed");
        }
        foreach (var extension in hcm.OriginalIpDetectionExtensions)
        {
            switch (extension.TypedConfig)
            {
                case CustomHeaderConfig custom:
                    if (string.IsNullOrEmpty(custom.HeaderName))
                    {
                        context.Error(custom, "header_name", "Proto constraint validation failed (CustomHeaderConfigValidationError.HeaderName: value length must be at least 1 characters)");
                    }
                    else if (!TracingValidator.IsHeaderName(custom.HeaderName))
                    {
                        context.Error(custom, "header_name", "Proto constraint validation failed (CustomHeaderConfigValidationError.HeaderName: value does not match regex pattern \"^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$\")");
                    }
                    if (custom.RejectWithStatus is { } status && (int)status.Code is < 100 or > 599)
                    {
                        context.Error(status, "code", "Proto constraint validation failed (HttpStatusValidationError.Code: value must be a defined status, not Empty)");
                    }
                    break;
                case XffConfig:
                    break;
                case null when !extension.HasBindingError("typed_config"):
                    context.Error(extension, "typed_config", "'typed_config' is required (envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig or .xff.v3.XffConfig)");
                    break;
            }
        }
    }

    /// <summary>A Host header value: visible ASCII, no spaces or separators a request line could not carry.</summary>
    private static bool IsHostValue(string host)
    {
        foreach (var c in host)
        {
            if (c <= ' ' || c >= 0x7F || c is '/' or '?' or '#' or '@' or '"' or '\\')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>A duration as the agreement errors print it (seconds, Envoy's JSON form).</summary>
    private static string DurationText(TimeSpan duration)
        => duration.TotalSeconds.ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture) + "s";
}
