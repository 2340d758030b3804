using System.Globalization;
using Gateway.Translation;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// A route's <c>max_stream_duration</c> on one request, as Envoy's ActiveStream::refreshDurationTimeout computes it after
/// route selection: the <c>grpc-timeout</c> header when <c>grpc_timeout_header_max</c> is set and the header parses
/// (capped, then lessened by the offset), else <c>max_stream_duration</c> (zero: none); a gRPC request's
/// <c>grpc-timeout</c> is set to the limit. The time already spent since the stream started counts against it.
/// </summary>
internal static class StreamDuration
{
    private const string GrpcTimeoutHeader = "grpc-timeout";

    /// <summary>What is left of a route's own limit (zero: already reached), or null when none applies.</summary>
    public static TimeSpan? Remaining(StreamDurationPlan plan, IHeaderDictionary headers, TimeSpan elapsed) => Remaining(plan, null, headers, elapsed);

    /// <summary>
    /// Envoy's refreshDurationTimeout: what is left of the request's limit (zero: already reached), or null when none
    /// applies. Without a usable <c>grpc-timeout</c>, the route's <c>max_stream_duration</c> when it sets one (0: none, even
    /// under the connection manager's), else the connection manager's <paramref name="connectionManagerLimit"/>.
    /// </summary>
    public static TimeSpan? Remaining(StreamDurationPlan? plan, TimeSpan? connectionManagerLimit, IHeaderDictionary headers, TimeSpan elapsed)
    {
        var grpcTimeout = plan?.GrpcTimeoutHeaderMax is null ? null : ParseGrpcTimeout(headers[GrpcTimeoutHeader]);
        TimeSpan timeout;
        if (grpcTimeout is null)
        {
            if ((plan?.MaxStreamDuration ?? connectionManagerLimit) is not { } limit || limit == TimeSpan.Zero)
            {
                return null;
            }
            timeout = limit;
        }
        else
        {
            timeout = grpcTimeout.Value;
            var max = plan!.GrpcTimeoutHeaderMax!.Value;
            if (max != TimeSpan.Zero && timeout > max)
            {
                timeout = max;
            }
            if (timeout != TimeSpan.Zero && plan.GrpcTimeoutHeaderOffset is { } offset)
            {
                timeout = offset < timeout ? timeout - offset : TimeSpan.Zero;
            }
        }
        if (Routing.RoutePredicate.IsGrpc(headers))
        {
            headers[GrpcTimeoutHeader] = ToGrpcTimeout(timeout);
        }
        return timeout > elapsed ? timeout - elapsed : TimeSpan.Zero;
    }

    /// <summary>Envoy's Grpc::Common::getGrpcTimeout: up to 8 digits and a unit (H, M, S, m, u, n; sub-millisecond units round up).</summary>
    public static TimeSpan? ParseGrpcTimeout(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 9
            || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }
        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromMilliseconds((amount + 999) / 1000),
            'n' => TimeSpan.FromMilliseconds((amount + 999_999) / 1_000_000),
            _ => null,
        };
    }

    /// <summary>Envoy's Grpc::Common::toGrpcTimeout: whole milliseconds in the smallest of m, S, M, H that fits 8 digits.</summary>
    public static string ToGrpcTimeout(TimeSpan timeout)
    {
        const long MaxValue = 99_999_999;
        var value = (long)timeout.TotalMilliseconds;
        var unit = 'm';
        if (value > MaxValue)
        {
            value /= 1000;
            unit = 'S';
            if (value > MaxValue)
            {
                value /= 60;
                unit = 'M';
                if (value > MaxValue)
                {
                    value = Math.Min(value / 60, MaxValue);
                    unit = 'H';
                }
            }
        }
        return value.ToString(CultureInfo.InvariantCulture) + unit;
    }
}
