using Gateway.AccessLog;
using Gateway.Configuration;
using Gateway.Formatting;

namespace Gateway.Validation;

/// <summary>
/// Checks <c>access_log</c> lists (HCM, listener, router <c>upstream_log</c>, admin): each logger's type and
/// configuration, its format, and its filter tree. <see cref="AccessLogCompiler"/> takes what passed here as given.
/// </summary>
internal sealed class AccessLogValidator(ValidationContext context)
{
    private readonly MatcherValidator _matchers = new(context);

    public void Validate(List<AccessLogConfig> logs)
    {
        foreach (var log in logs)
        {
            Validate(log);
        }
    }

    private void Validate(AccessLogConfig log)
    {
        if (log.Filter is { } filter)
        {
            ValidateFilter(filter);
        }
        switch (log.TypedConfig)
        {
            case null when !log.HasBindingError("typed_config"):
                context.Error(log, "'typed_config' is required (envoy.access_loggers.file, envoy.access_loggers.stdout or envoy.access_loggers.stderr)");
                break;
            case FileAccessLog file:
                if (string.IsNullOrEmpty(file.Path))
                {
                    // Envoy's proto constraint: FileAccessLog.path min_len 1.
                    context.Error(file, "path", "'path' is required");
                }
                var formats = (file.Format is null ? 0 : 1) + (file.JsonFormat is null ? 0 : 1) + (file.TypedJsonFormat is null ? 0 : 1) + (file.LogFormat is null ? 0 : 1);
                if (formats > 1)
                {
                    context.Error(file, "'format', 'json_format', 'typed_json_format' and 'log_format' are alternatives; give only one");
                }
                AccessLogFormats.Validate(file, context);
                break;
            case StdoutAccessLog stdout:
                AccessLogFormats.Validate(stdout.LogFormat, stdout, "log_format", context);
                break;
            case StderrAccessLog stderr:
                AccessLogFormats.Validate(stderr.LogFormat, stderr, "log_format", context);
                break;
        }
    }

    internal void ValidateFilter(AccessLogFilter filter)
    {
        var set = (filter.StatusCodeFilter is null ? 0 : 1) + (filter.DurationFilter is null ? 0 : 1) + (filter.NotHealthCheckFilter is null ? 0 : 1)
            + (filter.TraceableFilter is null ? 0 : 1) + (filter.RuntimeFilter is null ? 0 : 1) + (filter.AndFilter is null ? 0 : 1)
            + (filter.OrFilter is null ? 0 : 1) + (filter.HeaderFilter is null ? 0 : 1) + (filter.ResponseFlagFilter is null ? 0 : 1)
            + (filter.GrpcStatusFilter is null ? 0 : 1) + (filter.LogTypeFilter is null ? 0 : 1) + (filter.MetadataFilter is null ? 0 : 1);
        if (set == 0)
        {
            // Envoy: AccessLogFilterValidationError.FilterSpecifier: value is required.
            context.Error(filter, "an access log filter needs one of status_code_filter, duration_filter, not_health_check_filter, traceable_filter, runtime_filter, and_filter, or_filter, header_filter, response_flag_filter, grpc_status_filter, metadata_filter, log_type_filter");
        }
        else if (set > 1)
        {
            context.Error(filter, "an access log filter takes only one of its filters (a one-of)");
        }
        if (filter.StatusCodeFilter is { } status)
        {
            ValidateComparison(status, status.Comparison);
        }
        if (filter.DurationFilter is { } duration)
        {
            ValidateComparison(duration, duration.Comparison);
        }
        if (filter.RuntimeFilter is { } runtime && string.IsNullOrEmpty(runtime.RuntimeKey))
        {
            context.Error(runtime, "runtime_key", "'runtime_key' is required");
        }
        if (filter.AndFilter is { } and)
        {
            ValidateOperands(and, and.Filters);
        }
        if (filter.OrFilter is { } or)
        {
            ValidateOperands(or, or.Filters);
        }
        if (filter.HeaderFilter is { } header)
        {
            if (header.Header is null)
            {
                context.Error(header, "'header' is required");
            }
            else
            {
                _matchers.ValidateHeaderMatcher(header.Header);
            }
        }
        if (filter.MetadataFilter is { Matcher: { } matcher })
        {
            _matchers.ValidateMetadataMatcher(matcher);
        }
        if (filter.ResponseFlagFilter is { } flags)
        {
            for (var i = 0; i < flags.Flags.Count; i++)
            {
                if (ResponseFlagNames.Find(flags.Flags[i]) is null)
                {
                    context.Error(flags, "flags", $"'flags[{i}]': '{flags.Flags[i]}' is not a response flag (value must be in list [{string.Join(' ', ResponseFlagNames.Short)}])");
                }
            }
        }
    }

    private void ValidateComparison(EnvoyMessage owner, ComparisonFilter? comparison)
    {
        if (comparison is null)
        {
            context.Error(owner, "'comparison' is required");
            return;
        }
        if (comparison.Op is not (ComparisonOp.Eq or ComparisonOp.Ge or ComparisonOp.Le))
        {
            context.Error(comparison, "op", "'op' must be EQ, GE or LE");
        }
        if (comparison.Value is { } value && string.IsNullOrEmpty(value.RuntimeKey))
        {
            // Envoy's proto constraint: RuntimeUInt32.runtime_key min_len 1 (the key is accepted; its default applies).
            context.Error(value, "runtime_key", "'runtime_key' is required");
        }
    }

    private void ValidateOperands(EnvoyMessage owner, List<AccessLogFilter> filters)
    {
        if (filters.Count < 2)
        {
            context.Error(owner, "filters", "'filters' needs at least 2 filters");
        }
        foreach (var operand in filters)
        {
            ValidateFilter(operand);
        }
    }
}
