using Gateway.Filters.Middleware;
using Gateway.Host;
using Gateway.Tests.EndToEnd;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.CommandLine;

/// <summary><see cref="GatewayProgram.RunAsync(string[], Action{Configuration.EnvoyTypeRegistry}?, Action{IServiceCollection}?)"/> for a custom host, in-process with <c>--mode init_only</c>.</summary>
public sealed class GatewayProgramTests
{
    private static string[] InitOnlyWithMiddlewareFilter()
    {
        var yaml = SeedConfig.ReplaceOnce(TestPaths.ReadExample("quickstart.yaml").ReplaceLineEndings("\n"),
            "          http_filters:\n",
            "          http_filters:\n          - name: auth\n            typed_config: { \"@type\": type.googleapis.com/gateway.filters.http.middleware.v1.Middleware, pipeline: auth }\n");
        return ["--mode", "init_only", "--config-yaml", yaml];
    }

    [Fact]
    public async Task RunAsync_PipelineServicesAddedByConfigureServices_InitialisesAndExitsZero()
    {
        var exitCode = await GatewayProgram.RunAsync(
            InitOnlyWithMiddlewareFilter(),
            types => types.AddMiddlewareFilter("auth", app => app.UseMiddleware<NeedsServiceMiddleware>()),
            services => services.AddSingleton<RequiredService>());

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task RunAsync_PipelineServicesMissing_ExitsOne()
    {
        // The middleware is created when the pipeline is built, once per load: a missing service is a configuration error, not a crash.
        var exitCode = await GatewayProgram.RunAsync(
            InitOnlyWithMiddlewareFilter(),
            types => types.AddMiddlewareFilter("auth", app => app.UseMiddleware<NeedsServiceMiddleware>()),
            configureServices: null);

        Assert.Equal(1, exitCode);
    }

    private sealed class RequiredService;

    /// <summary>A conventional middleware with a constructor dependency, resolved when the pipeline is built.</summary>
    private sealed class NeedsServiceMiddleware(RequestDelegate next, RequiredService service)
    {
        public Task InvokeAsync(HttpContext context) => service is null ? Task.CompletedTask : next(context);
    }
}
