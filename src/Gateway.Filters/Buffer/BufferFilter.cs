using Gateway.Filters.Common;

namespace Gateway.Filters.Buffer;

/// <summary>
/// <c>envoy.filters.http.buffer</c>: the whole request body is buffered before the request goes on (the chain's request
/// body buffering, with the filter's <c>max_request_bytes</c> as the stream's buffer limit: 413 and
/// <c>downstream_rq_too_large</c> beyond it). The chain sets <c>content-length</c> from the buffered body.
/// </summary>
public sealed class BufferFilterFactory : HttpFilterFactory<BufferConfig, BufferPerRoute>
{
    /// <inheritdoc />
    public override string Name => "envoy.filters.http.buffer";

    /// <inheritdoc />
    protected override void Validate(BufferConfig config, HttpFilterValidationContext context) => ValidateBuffer(config, context);

    private static void ValidateBuffer(BufferConfig config, HttpFilterValidationContext context)
    {
        if (config.MaxRequestBytes is null)
        {
            if (!config.HasField("max_request_bytes"))
            {
                context.Error(config.LocationOf("max_request_bytes"), "max_request_bytes is required");
            }
        }
        else if (config.MaxRequestBytes == 0)
        {
            context.Error(config.LocationOf("max_request_bytes"), "max_request_bytes: value must be greater than 0");
        }
    }

    /// <inheritdoc />
    protected override void ValidateRouteConfig(BufferPerRoute config, HttpFilterValidationContext context)
    {
        if (PerRouteOneOf.Validate(config, config.Disabled, "buffer", context) && config.Buffer is { } buffer)
        {
            ValidateBuffer(buffer, context);
        }
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(BufferConfig config, HttpFilterFactoryContext context)
        => new BufferFilter(config.MaxRequestBytes!.Value);

    /// <inheritdoc />
    protected override object CreateRouteConfig(BufferPerRoute config, HttpFilterFactoryContext context)
        => new BufferRouteConfig(config.Disabled == true, config.Buffer?.MaxRequestBytes ?? 0);
}

/// <summary>A compiled <see cref="BufferPerRoute"/>.</summary>
internal sealed record BufferRouteConfig(bool Disabled, uint MaxRequestBytes);

/// <summary>The buffer filter of one listener.</summary>
internal sealed class BufferFilter(uint maxRequestBytes) : IHttpFilter
{
    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders | HttpFilterHooks.RequestBody;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var route = context.RouteConfig<BufferRouteConfig>();
        if (route is { Disabled: true } || StreamEnds.RequestHasNoBody(context.HttpContext))
        {
            // Disabled on the route, or a headers-only request: nothing to wait for.
            context.SkipRequestBody();
            return new(FilterStatus.Continue);
        }
        // Envoy's setDecoderBufferLimit: the stream's limit becomes max_request_bytes, lower or higher than the default.
        context.RequestBufferLimit = route?.MaxRequestBytes ?? maxRequestBytes;
        return new(FilterStatus.Continue);
    }
}
