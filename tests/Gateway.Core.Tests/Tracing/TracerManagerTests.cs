using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Tracing;
using Gateway.Translation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Tracing;

/// <summary>One tracer per distinct provider configuration, kept across applies while used, disposed when not.</summary>
public class TracerManagerTests
{
    private static GatewayPlan Plan(EnvoyTypeRegistry types, string label)
        => EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(TracingYaml.Build(1, tracing: TracingYaml.RecordingProvider.Replace("label: a", "label: " + label, StringComparison.Ordinal)), types: types), types);

    private static TracerProviderPlan Provider(GatewayPlan plan) => plan.Listeners[0].FilterChains[0].ConnectionManager.Tracing!.Provider!;

    [Fact]
    public void For_EqualConfigurations_ShareOneTracer_AndRetainDisposesTheUnused()
    {
        var factory = new RecordingTracerFactory();
        var types = EnvoyTypeRegistry.CreateDefault();
        types.AddTracer(factory);
        using var manager = new TracerManager(new TracerContext(new StatsStore(), TimeProvider.System, new Random(1), NullLoggerFactory.Instance, TracerManager.UnwiredClusterClient, "svc", "node"), NullLogger.Instance);
        var first = Plan(types, "a");

        var tracer = manager.For(Provider(first));
        Assert.Same(tracer, manager.For(Provider(Plan(types, "a"))));
        manager.Retain(first);
        Assert.False(((RecordingTracer)tracer).Disposed);

        var second = Plan(types, "b");
        var other = manager.For(Provider(second));
        manager.Retain(second);

        Assert.NotSame(tracer, other);
        Assert.True(((RecordingTracer)tracer).Disposed);
        Assert.False(((RecordingTracer)other).Disposed);
        Assert.Equal(1, manager.Count);
        Assert.Equal(2, factory.Created.Count);
    }
}
