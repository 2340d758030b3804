using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Formatting;
using Gateway.Routing;
using Gateway.Tracing;

namespace Gateway.AccessLog;

/// <summary>
/// A compiled <c>AccessLogFilter</c> (Envoy's AccessLog::Filter, source/common/access_log/access_log_impl.cc),
/// evaluated on the finished request. Immutable; built from a validated model by <see cref="Compile"/>.
/// </summary>
internal abstract class LogFilter
{
    /// <summary>Whether the entry is written; <paramref name="random"/> is the gateway's (injectable) random source.</summary>
    public abstract bool Evaluate(in AccessLogContext context, Random random);

    /// <summary>Compiles a filter that passed <c>AccessLogValidator</c>.</summary>
    /// <param name="config">The filter.</param>
    public static LogFilter Compile(AccessLogFilter config)
    {
        if (config.StatusCodeFilter is { } status)
        {
            return new StatusCode(Comparison.From(status.Comparison!));
        }
        if (config.DurationFilter is { } duration)
        {
            return new Duration(Comparison.From(duration.Comparison!));
        }
        if (config.NotHealthCheckFilter is not null)
        {
            return NotHealthCheck.Instance;
        }
        if (config.TraceableFilter is not null)
        {
            return Traceable.Instance;
        }
        if (config.RuntimeFilter is { } runtime)
        {
            return new Runtime(runtime.PercentSampled, runtime.UseIndependentRandomness);
        }
        if (config.AndFilter is { } and)
        {
            return new And(CompileAll(and.Filters));
        }
        if (config.OrFilter is { } or)
        {
            return new Or(CompileAll(or.Filters));
        }
        if (config.HeaderFilter is { } header)
        {
            return new Header(HeaderPredicate.FromConfig(header.Header!));
        }
        if (config.ResponseFlagFilter is { } flags)
        {
            var mask = ResponseFlags.None;
            foreach (var name in flags.Flags)
            {
                mask |= ResponseFlagNames.Find(name) ?? ResponseFlags.None;
            }
            return new Flags(mask, flags.Flags.Count != 0);
        }
        if (config.GrpcStatusFilter is { } grpc)
        {
            var statuses = 0;
            foreach (var value in grpc.Statuses)
            {
                statuses |= 1 << (int)value;
            }
            return new Grpc(statuses, grpc.Exclude);
        }
        if (config.MetadataFilter is { } metadata)
        {
            var whenAbsent = metadata.MatchIfKeyNotFound ?? true;
            return metadata.Matcher is { } matcher ? new Metadata(MetadataPredicate.FromConfig(matcher), whenAbsent) : new Constant(whenAbsent);
        }
        if (config.LogTypeFilter is { } types)
        {
            var mask = 0;
            foreach (var value in types.Types)
            {
                mask |= 1 << (int)value;
            }
            return new LogType(mask, types.Exclude);
        }
        throw new InvalidOperationException("an access log filter that passed validation has one filter set");
    }

    private static LogFilter[] CompileAll(List<AccessLogFilter> filters)
    {
        var compiled = new LogFilter[filters.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = Compile(filters[i]);
        }
        return compiled;
    }

    /// <summary>Envoy's ComparisonFilter with the value's default (no runtime layer).</summary>
    private readonly record struct Comparison(ComparisonOp Op, ulong Value)
    {
        public static Comparison From(ComparisonFilter config) => new(config.Op, config.Value?.DefaultValue ?? 0);

        public bool Compare(ulong lhs) => Op switch
        {
            ComparisonOp.Ge => lhs >= Value,
            ComparisonOp.Le => lhs <= Value,
            _ => lhs == Value,
        };
    }

    /// <summary><c>status_code_filter</c>: the response code, 0 when none was sent.</summary>
    private sealed class StatusCode(Comparison comparison) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
            => comparison.Compare((ulong)(context.StreamInfo?.ResponseCode ?? 0));
    }

    /// <summary><c>duration_filter</c>: the request's duration so far (Envoy's currentDuration) in whole milliseconds; never passes without a request.</summary>
    private sealed class Duration(Comparison comparison) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
            => context.StreamInfo?.CurrentDuration is { } duration && comparison.Compare((ulong)(long)duration.TotalMilliseconds);
    }

    /// <summary><c>not_health_check_filter</c>.</summary>
    private sealed class NotHealthCheck : LogFilter
    {
        public static readonly NotHealthCheck Instance = new();

        public override bool Evaluate(in AccessLogContext context, Random random) => context.StreamInfo is not { IsHealthCheck: true };
    }

    /// <summary>
    /// <c>traceable_filter</c>: as Envoy's TraceableRequestFilter, only a request traced because it was forced
    /// (<c>x-envoy-force-trace</c>, Envoy's Reason::ServiceForced) passes.
    /// </summary>
    private sealed class Traceable : LogFilter
    {
        public static readonly Traceable Instance = new();

        public override bool Evaluate(in AccessLogContext context, Random random)
            => context.StreamInfo is { TracingDecision: { Traced: true, Reason: TraceReason.ServiceForced } };
    }

    /// <summary>
    /// <c>runtime_filter</c> with its <c>percent_sampled</c>: the request's <c>x-request-id</c> (its first 8 hex digits,
    /// Envoy's UUIDRequestIDExtension::getInteger, as for trace sampling) modulo the denominator, so every host samples the same requests; a
    /// random value with <c>use_independent_randomness</c> or without a usable request id.
    /// </summary>
    private sealed class Runtime : LogFilter
    {
        private readonly ulong _numerator;
        private readonly ulong _denominator;
        private readonly bool _independent;

        public Runtime(FractionalPercent? percent, bool independent)
        {
            _numerator = percent?.Numerator ?? 0;
            _denominator = (percent?.Denominator ?? DenominatorType.Hundred) switch
            {
                DenominatorType.TenThousand => 10_000,
                DenominatorType.Million => 1_000_000,
                _ => 100,
            };
            _independent = independent;
        }

        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            ulong value;
            if (!_independent && RequestIdInteger(context.StreamInfo?.RequestId) is { } id)
            {
                value = id;
            }
            else
            {
                value = (ulong)random.NextInt64(long.MaxValue);
            }
            // Runtime's featureEnabled(key, numerator, value, denominator): value % denominator < numerator.
            return value % _denominator < _numerator;
        }

        /// <summary>
        /// Envoy's stream id provider (HttpStreamIdProviderImpl::toInteger): the request id extension's getInteger, the
        /// same stable value tracing samples on (<see cref="Listeners.UuidRequestId.TryGetInteger"/>), or null.
        /// </summary>
        internal static ulong? RequestIdInteger(string? requestId)
            => requestId is not null && Listeners.UuidRequestId.TryGetInteger(requestId, out var value) ? value : null;
    }

    /// <summary><c>and_filter</c>: all, in order, stopping at the first that fails.</summary>
    private sealed class And(LogFilter[] filters) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            foreach (var filter in filters)
            {
                if (!filter.Evaluate(context, random))
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary><c>or_filter</c>: any, in order, stopping at the first that passes.</summary>
    private sealed class Or(LogFilter[] filters) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            foreach (var filter in filters)
            {
                if (filter.Evaluate(context, random))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary><c>header_filter</c>: the route matcher's semantics on the request headers (Envoy's HeaderUtility::matchHeaders).</summary>
    private sealed class Header(HeaderPredicate predicate) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            if (context.StreamInfo is not { IsConnection: false } info)
            {
                // A connection entry has no request headers: Envoy matches against an empty header map.
                return predicate.Matches(new RequestView(null, string.Empty, string.Empty, string.Empty, EmptyHeaders.Instance));
            }
            var http = info.HttpContext;
            var request = http.Request;
            var host = request.Headers.Host;
            // :path as received (Kestrel's raw target): an access log filter runs after the request, on its headers.
            var path = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? string.Empty;
            return predicate.Matches(new RequestView(host.Count == 0 ? null : host.ToString(), request.Method, request.Scheme, path, request.Headers));
        }
    }

    /// <summary>
    /// <c>metadata_filter</c> (Envoy's MetadataFilter): the stream's dynamic metadata, as <c>%DYNAMIC_METADATA%</c> reads
    /// it, has a value at the matcher's namespace and path that the value matcher matches; with no value there (a
    /// connection entry has no metadata), <c>match_if_key_not_found</c>.
    /// </summary>
    private sealed class Metadata(MetadataPredicate predicate, bool whenAbsent) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
            => predicate.MatchesPresentOr(context.StreamInfo?.AllDynamicMetadata, whenAbsent);
    }

    /// <summary>A <c>metadata_filter</c> without a matcher: Envoy looks up no key, so <c>match_if_key_not_found</c> always decides.</summary>
    private sealed class Constant(bool result) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random) => result;
    }

    /// <summary><c>response_flag_filter</c>: any of the flags, or any flag at all when none is listed.</summary>
    private sealed class Flags(ResponseFlags mask, bool configured) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            var flags = context.StreamInfo?.ResponseFlags ?? ResponseFlags.None;
            return configured ? (flags & mask) != 0 : flags != ResponseFlags.None;
        }
    }

    /// <summary>
    /// <c>grpc_status_filter</c>: the <c>grpc-status</c> of the response trailers, else of the headers, else inferred
    /// from the HTTP status (Envoy's Grpc::Utility::httpToGrpcStatus); Unknown when there is no response.
    /// </summary>
    private sealed class Grpc(int statuses, bool exclude) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            var status = GrpcStatusOf(context);
            var found = status is >= 0 and <= 16 && (statuses & (1 << status)) != 0;
            return exclude ? !found : found;
        }

        internal static int GrpcStatusOf(in AccessLogContext context)
        {
            if (Parse(context.ResponseTrailers) is { } fromTrailers)
            {
                return fromTrailers;
            }
            if (Parse(context.ResponseHeaders) is { } fromHeaders)
            {
                return fromHeaders;
            }
            var code = context.StreamInfo?.ResponseCode ?? 0;
            return code == 0 ? (int)GrpcStatus.Unknown : HttpToGrpc(code);
        }

        private static int? Parse(Microsoft.AspNetCore.Http.IHeaderDictionary? headers)
        {
            if (headers is null || !headers.TryGetValue("grpc-status", out var values) || values.Count == 0)
            {
                return null;
            }
            // Envoy: a value that is not a number, or above the largest well-known status, is InvalidCode (matches nothing).
            return uint.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value <= 16
                ? (int)value
                : -1;
        }

        private static int HttpToGrpc(int status) => status switch
        {
            400 => (int)GrpcStatus.Internal,
            401 => (int)GrpcStatus.Unauthenticated,
            403 => (int)GrpcStatus.PermissionDenied,
            404 => (int)GrpcStatus.Unimplemented,
            429 or 502 or 503 or 504 => (int)GrpcStatus.Unavailable,
            _ => (int)GrpcStatus.Unknown,
        };
    }

    /// <summary><c>log_type_filter</c>: the entry's <see cref="AccessLogType"/>.</summary>
    private sealed class LogType(int types, bool exclude) : LogFilter
    {
        public override bool Evaluate(in AccessLogContext context, Random random)
        {
            var found = (types & (1 << (int)context.Type)) != 0;
            return exclude ? !found : found;
        }
    }

    /// <summary>An empty request header map (connection entries).</summary>
    private sealed class EmptyHeaders
    {
        public static readonly Microsoft.AspNetCore.Http.IHeaderDictionary Instance = new Microsoft.AspNetCore.Http.HeaderDictionary();
    }
}
