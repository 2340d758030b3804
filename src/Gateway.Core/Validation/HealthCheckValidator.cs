using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Checks a cluster's <c>health_checks</c> entry: intervals and thresholds, and the HTTP or TCP checker's settings.</summary>
internal sealed class HealthCheckValidator(ValidationContext context)
{
    public void Validate(HealthCheck check)
    {
        RequirePositive(check, "timeout", check.Timeout, required: true);
        RequirePositive(check, "interval", check.Interval, required: true);
        RequirePositive(check, "no_traffic_interval", check.NoTrafficInterval, required: false);
        RequirePositive(check, "no_traffic_healthy_interval", check.NoTrafficHealthyInterval, required: false);
        RequirePositive(check, "unhealthy_interval", check.UnhealthyInterval, required: false);
        RequirePositive(check, "unhealthy_edge_interval", check.UnhealthyEdgeInterval, required: false);
        RequirePositive(check, "healthy_edge_interval", check.HealthyEdgeInterval, required: false);
        if (check.InitialJitter is { } initialJitter && initialJitter < TimeSpan.Zero)
        {
            context.Error(check, "initial_jitter", "'initial_jitter' may not be negative");
        }
        if (check.IntervalJitter is { } intervalJitter && intervalJitter < TimeSpan.Zero)
        {
            context.Error(check, "interval_jitter", "'interval_jitter' may not be negative");
        }
        if (check.UnhealthyThreshold is null)
        {
            context.Error(check, "unhealthy_threshold", "'unhealthy_threshold' is required");
        }
        if (check.HealthyThreshold is null)
        {
            context.Error(check, "healthy_threshold", "'healthy_threshold' is required");
        }
        if (check.HttpHealthCheck is not null && check.TcpHealthCheck is not null)
        {
            context.Error(check, "a health check takes only one of http_health_check, tcp_health_check, grpc_health_check, custom_health_check");
            return;
        }
        if (check.TcpHealthCheck is { } tcp)
        {
            ValidateTcpHealthCheck(tcp);
            return;
        }
        if (check.HttpHealthCheck is not { } http)
        {
            context.Error(check, "a health check needs one of http_health_check, tcp_health_check, grpc_health_check, custom_health_check (only http_health_check and tcp_health_check are supported by this gateway yet)");
            return;
        }
        if (string.IsNullOrEmpty(http.Path))
        {
            context.Error(http, "path", "'path' is required");
        }
        else if (http.Path.Any(c => char.IsControl(c) || c == ' '))
        {
            context.Error(http, "path", "'path' must be a valid HTTP header value without spaces");
        }
        if (http.Host is { } host && host.Any(char.IsControl))
        {
            context.Error(http, "host", "'host' must be a valid HTTP header value");
        }
        if (http.Method == RequestMethod.Connect)
        {
            context.Error(http, "method", "method CONNECT is not allowed for health checks");
        }
        ValidateStatusRanges(http.ExpectedStatuses, "expected");
        ValidateStatusRanges(http.RetriableStatuses, "retriable");
    }

    private void ValidateTcpHealthCheck(TcpHealthCheck tcp)
    {
        if (tcp.Send is { } send)
        {
            ValidatePayload(send);
        }
        foreach (var payload in tcp.Receive)
        {
            ValidatePayload(payload);
        }
    }

    private void ValidatePayload(HealthCheckPayload payload)
    {
        if ((payload.Text is null) == (payload.Binary is null))
        {
            context.Error(payload, "a health check payload needs exactly one of text, binary");
            return;
        }
        // Envoy: text has min_len 1 and must decode (Hex::decode: even length, hex digits only).
        if (payload.Text is { } text && HealthCheckPayloads.TryDecodeHex(text) is null)
        {
            context.Error(payload, "text", $"invalid hex string '{text}'");
        }
        if (payload.Binary is { } binary && !Convert.TryFromBase64String(binary, new byte[binary.Length], out _))
        {
            context.Error(payload, "binary", "'binary' must be base64");
        }
    }

    private void ValidateStatusRanges(List<Int64Range> ranges, string kind)
    {
        foreach (var range in ranges)
        {
            if (range.Start >= range.End)
            {
                context.Error(range, $"Invalid http {kind} status range: expecting start < end, but found start={range.Start} and end={range.End}");
            }
            else if (range.Start < 100)
            {
                context.Error(range, "start", $"Invalid http {kind} status range: expecting start >= 100, but found start={range.Start}");
            }
            else if (range.End > 600)
            {
                context.Error(range, "end", $"Invalid http {kind} status range: expecting end <= 600, but found end={range.End}");
            }
        }
    }

    private void RequirePositive(EnvoyMessage owner, string field, TimeSpan? value, bool required)
    {
        if (value is null)
        {
            if (required)
            {
                context.Error(owner, field, $"'{field}' is required");
            }
        }
        else if (value <= TimeSpan.Zero)
        {
            context.Error(owner, field, $"'{field}' must be greater than 0s");
        }
    }
}
