using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.Middleware;

/// <summary>
/// <c>gateway.filters.http.middleware</c>: one factory per registry holding the named pipelines registered in code;
/// a configuration names one, and each filter built from it runs that pipeline, built once per configuration load.
/// </summary>
internal sealed class MiddlewareFilterFactory : HttpFilterFactory<MiddlewareFilterConfig>
{
    public const string FilterName = "gateway.filters.http.middleware";

    private readonly Dictionary<string, Action<IApplicationBuilder>> _pipelines = new(StringComparer.Ordinal);
    private volatile bool _frozen;

    public override string Name => FilterName;

    /// <summary>Registers a named pipeline; refused once a configuration has been checked against the registered ones.</summary>
    public void AddPipeline(string name, Action<IApplicationBuilder> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        lock (_pipelines)
        {
            if (_frozen)
            {
                throw new InvalidOperationException($"The gateway's configuration has been loaded: register the middleware pipeline '{name}' before it is.");
            }
            if (!_pipelines.TryAdd(name, configure))
            {
                throw new ArgumentException($"A middleware pipeline named '{name}' is already registered.", nameof(name));
            }
        }
    }

    protected override void Validate(MiddlewareFilterConfig config, HttpFilterValidationContext context)
    {
        // From the first configuration checked on, the set of pipelines is fixed (and read without a lock).
        _frozen = true;
        if (string.IsNullOrEmpty(config.Pipeline))
        {
            context.Error(config, "pipeline", $"'pipeline' is required: the name of a middleware pipeline registered with AddMiddlewareFilter ({Registered()})");
        }
        else if (!_pipelines.ContainsKey(config.Pipeline))
        {
            context.Error(config, "pipeline", $"unknown middleware pipeline '{config.Pipeline}' ({Registered()})");
        }
    }

    protected override IHttpFilter CreateFilter(MiddlewareFilterConfig config, HttpFilterFactoryContext context)
    {
        var name = config.Pipeline!;
        var app = new ApplicationBuilder(context.Services);
        RequestDelegate pipeline;
        try
        {
            _pipelines[name](app);
            // Reached only when every middleware called next: the request goes on through the chain.
            app.Run(MiddlewareFilter.RunRest);
            pipeline = app.Build();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // A middleware whose services are not registered (checked by its Use method, or when Build creates it):
            // the host reports it as a configuration error.
            throw new InvalidOperationException($"the middleware pipeline '{name}' of HTTP filter '{context.FilterName}' could not be built", ex);
        }
        return new MiddlewareFilter(pipeline);
    }

    private string Registered()
    {
        if (_pipelines.Count == 0)
        {
            return "no pipeline is registered";
        }
        var names = new List<string>(_pipelines.Keys);
        names.Sort(StringComparer.Ordinal);
        return "the pipelines registered are: " + string.Join(", ", names);
    }
}
