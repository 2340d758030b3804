using Gateway.Configuration;
using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Filters.Middleware;

/// <summary>
/// Registers ASP.NET middleware pipelines that an HTTP filter of type
/// <c>type.googleapis.com/gateway.filters.http.middleware.v1.Middleware</c> names by <c>pipeline</c>.
/// </summary>
public static class MiddlewareFilterExtensions
{
    /// <summary>
    /// Registers the pipeline <paramref name="pipeline"/>: <paramref name="configure"/> adds middleware to it
    /// (<c>app => app.UseAuthentication().UseAuthorization()</c>). It is built once per configuration load with the
    /// application's services; its last <c>next</c> runs the rest of the request, so middleware see the upstream's response after it.
    /// </summary>
    public static IEnvoyGatewayBuilder AddMiddlewareFilter(this IEnvoyGatewayBuilder gateway, string pipeline, Action<IApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        Add(gateway.Types, factory => gateway.AddHttpFilter(factory), pipeline, configure);
        return gateway;
    }

    /// <summary>
    /// Registers the pipeline <paramref name="pipeline"/> in a registry (for <c>GatewayProgram.RunAsync(args, types => ...)</c>,
    /// whose services a custom host adds with its <c>configureServices</c> argument).
    /// </summary>
    public static EnvoyTypeRegistry AddMiddlewareFilter(this EnvoyTypeRegistry types, string pipeline, Action<IApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(types);
        Add(types, factory => types.AddHttpFilter(factory), pipeline, configure);
        return types;
    }

    /// <summary>The registry's one middleware factory (registered through <paramref name="register"/> on first use) gets the pipeline.</summary>
    private static void Add(EnvoyTypeRegistry types, Action<IHttpFilterFactory> register, string pipeline, Action<IApplicationBuilder> configure)
    {
        if (types.FindHttpFilter(typeof(MiddlewareFilterConfig)) is not MiddlewareFilterFactory factory)
        {
            factory = new MiddlewareFilterFactory();
            register(factory);
        }
        factory.AddPipeline(pipeline, configure);
    }
}
