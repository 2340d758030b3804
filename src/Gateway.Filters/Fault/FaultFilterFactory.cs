using Gateway.Configuration.Types;
using Gateway.Configuration;
using Gateway.Filters.Common;

namespace Gateway.Filters.Fault;

/// <summary>
/// <c>envoy.filters.http.fault</c>: injects delays and aborts into a share of the requests (fixed or controlled by the
/// request's <c>x-envoy-fault-*</c> headers), optionally only for one upstream cluster, some downstream nodes or
/// matching headers; the per-route <c>HTTPFault</c> replaces the filter's settings for that route.
/// </summary>
public sealed class FaultFilterFactory : HttpFilterFactory<HttpFaultConfig, HttpFaultConfig>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.fault";

    /// <inheritdoc />
    protected override void Validate(HttpFaultConfig config, HttpFilterValidationContext context) => Check(config, context);

    /// <inheritdoc />
    protected override void ValidateRouteConfig(HttpFaultConfig config, HttpFilterValidationContext context) => Check(config, context);

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(HttpFaultConfig config, HttpFilterFactoryContext context)
        => new FaultFilter(FaultSettings.Compile(config), new FaultStats(context.Stats), context.Random);

    /// <inheritdoc />
    protected override object CreateRouteConfig(HttpFaultConfig config, HttpFilterFactoryContext context) => FaultSettings.Compile(config);

    private static void Check(HttpFaultConfig config, HttpFilterValidationContext context)
    {
        if (config.Delay is { } delay)
        {
            if (delay.FixedDelay is null && delay.HeaderDelay is null)
            {
                context.MessageError(delay, "fault_delay_secifier: value is required (fixed_delay or header_delay)");
            }
            else if (delay.FixedDelay is not null && delay.HeaderDelay is not null)
            {
                context.MessageError(delay, "fault_delay_secifier: only one of fixed_delay, header_delay may be set");
            }
            if (delay.FixedDelay is { } fixedDelay && fixedDelay <= TimeSpan.Zero)
            {
                context.FieldError(delay, "fixed_delay", "fixed_delay: value must be greater than 0s");
            }
        }
        if (config.Abort is { } abort)
        {
            var set = (abort.HttpStatus is null ? 0 : 1) + (abort.GrpcStatus is null ? 0 : 1) + (abort.HeaderAbort is null ? 0 : 1);
            if (set == 0)
            {
                context.MessageError(abort, "error_type: value is required (http_status, grpc_status or header_abort)");
            }
            else if (set > 1)
            {
                context.MessageError(abort, "error_type: only one of http_status, grpc_status, header_abort may be set");
            }
            if (abort.HttpStatus is { } status && (status < 200 || status >= 600))
            {
                context.FieldError(abort, "http_status", "http_status: value must be inside range [200, 600)");
            }
        }
        FilterConfigChecks.ValidateHeaderMatchers(config.Headers, context);
    }
}
