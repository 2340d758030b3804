using Gateway.Configuration.Types;
using Gateway.Configuration;
using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Filters.Common;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Filters.Fault;

/// <summary>A compiled <see cref="HttpFaultConfig"/> (Envoy's FaultSettings): the filter's, or one route's.</summary>
internal sealed class FaultSettings
{
    private FaultSettings()
    {
    }

    /// <summary>Null without a delay.</summary>
    public Percentage? DelayPercent { get; private init; }

    /// <summary>The fixed delay, or null when the header gives it (<see cref="DelayPercent"/> set) or there is no delay.</summary>
    public TimeSpan? FixedDelay { get; private init; }

    /// <summary>Null without an abort.</summary>
    public Percentage? AbortPercent { get; private init; }

    /// <summary>The fixed status, or null when the header gives it.</summary>
    public int? AbortStatus { get; private init; }

    /// <summary>The fixed gRPC status (the HTTP status is then 200), or null.</summary>
    public int? AbortGrpcStatus { get; private init; }

    public string? UpstreamCluster { get; private init; }

    public HashSet<string>? DownstreamNodes { get; private init; }

    public required RequestHeaderMatchers Headers { get; init; }

    public uint? MaxActiveFaults { get; private init; }

    public bool DownstreamClusterStats { get; private init; }

    public static FaultSettings Compile(HttpFaultConfig config) => new()
    {
        DelayPercent = config.Delay is { } delay ? PercentOf(delay.Percentage) : null,
        FixedDelay = config.Delay?.FixedDelay,
        AbortPercent = config.Abort is { } abort ? PercentOf(abort.Percentage) : null,
        AbortStatus = config.Abort?.HttpStatus is { } status ? (int)status : config.Abort?.GrpcStatus is not null ? 200 : null,
        AbortGrpcStatus = config.Abort?.GrpcStatus is { } grpc ? (int)Math.Min(grpc, int.MaxValue) : null,
        UpstreamCluster = string.IsNullOrEmpty(config.UpstreamCluster) ? null : config.UpstreamCluster,
        DownstreamNodes = config.DownstreamNodes.Count == 0 ? null : new HashSet<string>(config.DownstreamNodes, StringComparer.Ordinal),
        Headers = RequestHeaderMatchers.Compile(config.Headers),
        MaxActiveFaults = config.MaxActiveFaults,
        DownstreamClusterStats = !config.DisableDownstreamClusterStats,
    };

    /// <summary>An unset percentage is protobuf's default FractionalPercent, 0/100.</summary>
    private static Percentage PercentOf(FractionalPercent? percent) => percent is null ? Percentage.Never : Percentage.From(percent);
}

/// <summary>The filter's stats, <c>http.&lt;stat_prefix&gt;.fault.*</c>, shared by the filter and its per-route settings (as in Envoy).</summary>
internal sealed class FaultStats(HttpFilterStatsScope scope)
{
    // Downstream cluster names come from a request header; their counters are made on first use, as Envoy's dynamic stat names are.
    private readonly ConcurrentDictionary<string, (Counter Delays, Counter Aborts)> _downstream = new(StringComparer.Ordinal);

    public Counter DelaysInjected { get; } = scope.Counter("fault.delays_injected");

    public Counter AbortsInjected { get; } = scope.Counter("fault.aborts_injected");

    public Counter FaultsOverflow { get; } = scope.Counter("fault.faults_overflow");

    public Gauge ActiveFaults { get; } = scope.Gauge("fault.active_faults");

    public (Counter Delays, Counter Aborts) Downstream(string cluster)
        => _downstream.GetOrAdd(cluster, static (name, s) => (s.Counter("fault." + name + ".delays_injected"), s.Counter("fault." + name + ".aborts_injected")), scope);
}

/// <summary>The fault filter of one listener (Envoy's <c>FaultFilter</c>).</summary>
internal sealed class FaultFilter(FaultSettings settings, FaultStats stats, Random random) : IHttpFilter
{
    private const string DelayHeader = "x-envoy-fault-delay-request";
    private const string DelayPercentHeader = "x-envoy-fault-delay-request-percentage";
    private const string AbortHeader = "x-envoy-fault-abort-request";
    private const string AbortPercentHeader = "x-envoy-fault-abort-request-percentage";
    private const string AbortGrpcHeader = "x-envoy-fault-abort-grpc-request";
    private const string DownstreamNodeHeader = "x-envoy-downstream-service-node";
    private const string DownstreamClusterHeader = "x-envoy-downstream-service-cluster";

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.Complete;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var used = context.RouteConfig<FaultSettings>() ?? settings;
        if (used.DelayPercent is null && used.AbortPercent is null)
        {
            return new(FilterStatus.Continue);
        }
        if (used.UpstreamCluster is { } cluster && !string.Equals(context.Route?.ClusterName, cluster, StringComparison.Ordinal))
        {
            return new(FilterStatus.Continue);
        }
        var headers = context.HttpContext.Request.Headers;
        if (used.DownstreamNodes is { } nodes && !(headers.TryGetValue(DownstreamNodeHeader, out var node) && nodes.Contains(node.ToString())))
        {
            return new(FilterStatus.Continue);
        }
        if (!used.Headers.Matches(context.HttpContext))
        {
            return new(FilterStatus.Continue);
        }

        var delay = DelayDuration(used, headers);
        if (delay is { } duration && TryActivate(context, used))
        {
            RecordDelay(used, headers);
            context.StreamInfo.SetResponseFlag(ResponseFlags.DelayInjected);
            return DelayThenMaybeAbortAsync(context, used, duration);
        }
        return new(MaybeAbort(context, used));
    }

    public void OnComplete(HttpFilterContext context)
    {
        if (ActiveFault.Take(context.HttpContext, this))
        {
            stats.ActiveFaults.Decrement();
        }
    }

    private async ValueTask<FilterStatus> DelayThenMaybeAbortAsync(HttpFilterContext context, FaultSettings used, TimeSpan duration)
    {
        await Task.Delay(duration, context.TimeProvider, context.HttpContext.RequestAborted).ConfigureAwait(false);
        var status = MaybeAbort(context, used);
        if (status == FilterStatus.Continue && ActiveFault.Take(context.HttpContext, this))
        {
            // The delay is over and no other fault is active: the request no longer counts against max_active_faults.
            stats.ActiveFaults.Decrement();
        }
        return status;
    }

    private FilterStatus MaybeAbort(HttpFilterContext context, FaultSettings used)
    {
        if (used.AbortPercent is not { } configured)
        {
            return FilterStatus.Continue;
        }
        var headers = context.HttpContext.Request.Headers;
        int status;
        int? grpcStatus = used.AbortGrpcStatus;
        Percentage percent;
        if (used.AbortStatus is { } fixedStatus)
        {
            status = fixedStatus;
            percent = configured;
        }
        else
        {
            // header_abort: the status (an HTTP status in [200, 600), else a gRPC status with HTTP 200, as Envoy's
            // abortStatus) and, capped by the configuration, the percentage come from the request.
            if (FirstNumber(headers, AbortHeader) is { } code && code >= 200 && code < 600)
            {
                status = (int)code;
            }
            else if (FirstNumber(headers, AbortGrpcHeader) is { } grpc)
            {
                status = StatusCodes.Status200OK;
                grpcStatus = (int)Math.Min(grpc, int.MaxValue);
            }
            else
            {
                return FilterStatus.Continue;
            }
            percent = HeaderPercent(configured, headers, AbortPercentHeader);
        }
        if (!percent.Evaluate(random) || !TryActivate(context, used))
        {
            return FilterStatus.Continue;
        }
        if (DownstreamCluster(used, headers) is { } downstream)
        {
            stats.Downstream(downstream).Aborts.Increment();
        }
        stats.AbortsInjected.Increment();
        context.StreamInfo.SetResponseFlag(ResponseFlags.FaultInjected);
        return context.SendLocalReply(status, "fault filter abort", "fault_filter_abort", grpcStatus: grpcStatus);
    }

    private TimeSpan? DelayDuration(FaultSettings used, IHeaderDictionary headers)
    {
        if (used.DelayPercent is not { } configured)
        {
            return null;
        }
        TimeSpan duration;
        var percent = configured;
        if (used.FixedDelay is { } fixedDelay)
        {
            // Envoy delays whole milliseconds.
            duration = TimeSpan.FromMilliseconds((long)fixedDelay.TotalMilliseconds);
        }
        else if (FirstNumber(headers, DelayHeader) is { } milliseconds)
        {
            // header_delay: the milliseconds and, capped by the configuration, the percentage come from the request.
            // Task.Delay's longest wait is uint.MaxValue - 1 ms (about 49 days).
            duration = TimeSpan.FromMilliseconds((long)Math.Min(milliseconds, uint.MaxValue - 1UL));
            percent = HeaderPercent(configured, headers, DelayPercentHeader);
        }
        else
        {
            return null;
        }
        // Only a positive delay is injected.
        return duration > TimeSpan.Zero && percent.Evaluate(random) ? duration : null;
    }

    private void RecordDelay(FaultSettings used, IHeaderDictionary headers)
    {
        if (DownstreamCluster(used, headers) is { } downstream)
        {
            stats.Downstream(downstream).Delays.Increment();
        }
        stats.DelaysInjected.Increment();
    }

    /// <summary>
    /// Envoy's tryIncActiveFaults: one active fault per request and filter; a new one is refused (faults_overflow)
    /// when active_faults has reached max_active_faults (a fuzzy limit, as Envoy's).
    /// </summary>
    private bool TryActivate(HttpFilterContext context, FaultSettings used)
    {
        if (ActiveFault.Has(context.HttpContext, this))
        {
            return true;
        }
        if (used.MaxActiveFaults is { } max && stats.ActiveFaults.Value >= max)
        {
            stats.FaultsOverflow.Increment();
            return false;
        }
        stats.ActiveFaults.Increment();
        ActiveFault.Mark(context.HttpContext, this);
        return true;
    }

    private static string? DownstreamCluster(FaultSettings used, IHeaderDictionary headers)
        => used.DownstreamClusterStats && headers.TryGetValue(DownstreamClusterHeader, out var value) && value.Count > 0 && !string.IsNullOrEmpty(value[0])
            ? value[0]
            : null;

    /// <summary>The header's first value as an unsigned number (absl::SimpleAtoi: surrounding whitespace allowed), or null.</summary>
    private static ulong? FirstNumber(IHeaderDictionary headers, string name)
    {
        if (!headers.TryGetValue(name, out StringValues values) || values.Count == 0)
        {
            return null;
        }
        var text = values[0].AsSpan().Trim();
        if (text.Length > 0 && text[0] == '+')
        {
            text = text[1..];
        }
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;
    }

    /// <summary>Envoy's HeaderPercentageProvider: the header's numerator, capped by the configured one, over the configured denominator.</summary>
    private static Percentage HeaderPercent(Percentage configured, IHeaderDictionary headers, string name)
        => FirstNumber(headers, name) is { } numerator && numerator <= uint.MaxValue ? configured.CappedAt((uint)numerator) : configured;

    /// <summary>Marks a request that holds one of this filter's active faults.</summary>
    private sealed class ActiveFault
    {
        private readonly FaultFilter _owner;
        private readonly ActiveFault? _next;
        private bool _active = true;

        private ActiveFault(FaultFilter owner, ActiveFault? next)
        {
            _owner = owner;
            _next = next;
        }

        public static void Mark(HttpContext context, FaultFilter owner)
        {
            var existing = context.Features.Get<ActiveFault>();
            for (var state = existing; state is not null; state = state._next)
            {
                if (ReferenceEquals(state._owner, owner))
                {
                    state._active = true;
                    return;
                }
            }
            context.Features.Set(new ActiveFault(owner, existing));
        }

        public static bool Has(HttpContext context, FaultFilter owner) => Find(context, owner) is { _active: true };

        /// <summary>Clears the mark; true when it was set.</summary>
        public static bool Take(HttpContext context, FaultFilter owner)
        {
            if (Find(context, owner) is not { _active: true } state)
            {
                return false;
            }
            state._active = false;
            return true;
        }

        private static ActiveFault? Find(HttpContext context, FaultFilter owner)
        {
            for (var state = context.Features.Get<ActiveFault>(); state is not null; state = state._next)
            {
                if (ReferenceEquals(state._owner, owner))
                {
                    return state;
                }
            }
            return null;
        }
    }
}
