using Gateway.Configuration;

namespace Gateway.AccessLog;

/// <summary>Turns validated <c>access_log</c> lists into <see cref="AccessLogPlan"/>s (part of the pure translation).</summary>
internal static class AccessLogCompiler
{
    /// <summary>The plans of <paramref name="logs"/>, in order; empty (and shared) when there are none.</summary>
    public static IReadOnlyList<AccessLogPlan> Compile(List<AccessLogConfig> logs)
    {
        if (logs.Count == 0)
        {
            return [];
        }
        var plans = new AccessLogPlan[logs.Count];
        for (var i = 0; i < plans.Length; i++)
        {
            var log = logs[i];
            var filter = log.Filter is null ? null : LogFilter.Compile(log.Filter);
            plans[i] = log.TypedConfig switch
            {
                FileAccessLog file => new AccessLogPlan(filter, AccessLogFormats.Compile(file), AccessLogDestination.File(file.Path!), file.LocationOf("path")),
                StdoutAccessLog stdout => new AccessLogPlan(filter, AccessLogFormats.Compile(stdout.LogFormat), AccessLogDestination.Stdout, stdout.Location),
                StderrAccessLog stderr => new AccessLogPlan(filter, AccessLogFormats.Compile(stderr.LogFormat), AccessLogDestination.Stderr, stderr.Location),
                _ => throw new InvalidOperationException("an access log that passed validation has a known typed_config"),
            };
        }
        return plans;
    }

    /// <summary>
    /// The admin's loggers (Envoy's InitialImpl::initAdminAccessLog): <c>access_log</c>, then the deprecated
    /// <c>access_log_path</c> as a file logger in the default format.
    /// </summary>
    public static IReadOnlyList<AccessLogPlan> CompileAdmin(Configuration.Admin admin)
    {
        var plans = Compile(admin.AccessLog);
        if (string.IsNullOrEmpty(admin.AccessLogPath))
        {
            return plans;
        }
        var pathPlan = new AccessLogPlan(null, AccessLogFormats.Compile((SubstitutionFormatString?)null), AccessLogDestination.File(admin.AccessLogPath), admin.LocationOf("access_log_path"));
        return [.. plans, pathPlan];
    }

    /// <summary>True when a logger's format reads the body byte counts, which the connection manager then counts.</summary>
    public static bool NeedsBodyBytes(IReadOnlyList<AccessLogPlan> plans)
    {
        foreach (var plan in plans)
        {
            if (plan.Format.NeedsBodyBytes)
            {
                return true;
            }
        }
        return false;
    }
}
