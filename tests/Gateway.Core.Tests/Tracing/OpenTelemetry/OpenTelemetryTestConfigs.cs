using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Tests.Common;
using Gateway.Tracing;
using Gateway.Tracing.OpenTelemetry;
using Gateway.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tracing.OpenTelemetry;

/// <summary>Binds and validates <c>OpenTelemetryConfig</c> YAML and builds tracers from it, as the connection manager will.</summary>
internal static class OpenTelemetryTestConfigs
{
    /// <summary>A registry with the tracer's configuration and its detector and sampler types.</summary>
    public static EnvoyTypeRegistry Registry()
    {
        var registry = EnvoyTypeRegistry.CreateDefault();
        registry.Register<OpenTelemetryConfig>();
        foreach (var type in OpenTelemetryTracerFactory.Instance.ExtensionConfigTypes)
        {
            registry.Register(type);
        }
        return registry;
    }

    /// <summary>The configuration and every error of binding and validating it (the static clusters being <paramref name="clusters"/>).</summary>
    public static (OpenTelemetryConfig Config, IReadOnlyList<string> Errors) Load(string yaml, params string[] clusters)
    {
        var registry = Registry();
        var errors = new ConfigErrorList();
        var config = new OpenTelemetryConfig();
        var root = ConfigTreeReader.Read(ListenerYaml.Dedent(yaml), "otel.yaml", errors);
        if (root is not null)
        {
            new ConfigBinder("otel.yaml", registry, errors).BindRoot(root, config);
        }
        var context = new ValidationContext(registry);
        foreach (var cluster in clusters.Length == 0 ? ["otel"] : clusters)
        {
            context.ClusterNames.Add(cluster);
        }
        OpenTelemetryTracerFactory.Instance.Validate(config, context);
        var all = errors.ToException().Errors.Select(e => e.ToString()).Concat(context.Errors.Select(e => e.ToString())).ToList();
        return (config, all);
    }

    /// <summary>A tracer of a configuration that must load without errors.</summary>
    public static TestTracer Create(string yaml, Func<string, HttpMessageInvoker> clusters, Func<string, string?>? environment = null)
    {
        var (config, errors) = Load(yaml);
        Assert.Empty(errors);
        var stats = new StatsStore();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
        var context = new TracerContext(stats, time, new Random(1), NullLoggerFactory.Instance, clusters, "gateway-cluster", "gateway-node");
        var factory = new OpenTelemetryTracerFactory(environment ?? (_ => null));
        return new TestTracer((OpenTelemetryTracer)factory.Create(config, context), stats, time);
    }

    /// <summary>An <c>http_service</c> configuration to a collector at 127.0.0.1:<paramref name="port"/>.</summary>
    public static string Http(int port, string extra = "") => $$"""
        http_service:
          http_uri: { uri: "http://collector.example:{{port}}/v1/traces", cluster: otel, timeout: 2s }
          request_headers_to_add:
          - header: { key: x-api-key, value: "se,cret=1" }
        service_name: front-proxy
        {{extra}}
        """;

    /// <summary>A <c>grpc_service</c> configuration through cluster <c>otel</c>.</summary>
    public static string Grpc(string extra = "") => $$"""
        grpc_service:
          envoy_grpc: { cluster_name: otel, authority: collector.example }
          timeout: 2s
          initial_metadata:
          - { key: x-tenant, value: blue }
        service_name: front-proxy
        {{extra}}
        """;

    /// <summary>A downstream request's span start.</summary>
    public static SpanStart Start(DateTimeOffset at, bool traced = true, string? traceParent = null, string? traceState = null, SpanDirection direction = SpanDirection.Ingress, string operation = "ingress")
    {
        var headers = new HeaderDictionary();
        if (traceParent is not null)
        {
            headers["traceparent"] = traceParent;
        }
        if (traceState is not null)
        {
            headers["tracestate"] = traceState;
        }
        return new SpanStart(headers, operation, at, new TracingDecision(traced ? TraceReason.Sampling : TraceReason.NotTraceable, traced), direction);
    }
}

/// <summary>A tracer with its stats and clock.</summary>
internal sealed record TestTracer(OpenTelemetryTracer Tracer, StatsStore Stats, FakeTimeProvider Time) : IAsyncDisposable
{
    public long Counter(string name) => Stats.Counter("tracing.opentelemetry." + name).Value;

    /// <summary>Fires Envoy's flush timer.</summary>
    public void FireFlushTimer() => Time.Advance(SpanBuffer.FlushInterval);

    public ValueTask DisposeAsync() => Tracer.DisposeAsync();
}
