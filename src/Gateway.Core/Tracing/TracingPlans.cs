using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Validation;

namespace Gateway.Tracing;

/// <summary>One tracer provider (<c>envoy.config.trace.v3.Tracing.Http</c>), validated, with the factory that builds it.</summary>
/// <param name="Name">The provider's <c>name</c>.</param>
/// <param name="Config">Its <c>typed_config</c>.</param>
/// <param name="Factory">The tracer factory of the config's type.</param>
/// <param name="Key">The provider as canonical JSON: connection managers with equal keys share one tracer (Envoy's TracerManagerImpl cache).</param>
internal sealed record TracerProviderPlan(string Name, EnvoyMessage Config, ITracerFactory Factory, string Key);

/// <summary>
/// The compiled <c>tracing</c> of one connection manager (Envoy's TracingConnectionManagerConfig); no references
/// back into the model except the provider's configuration, which its tracer is built from.
/// </summary>
internal sealed record ConnectionManagerTracingPlan(
    TracerProviderPlan? Provider,
    TracingSampling Sampling,
    CustomTagPlan[] CustomTags,
    bool Verbose,
    int MaxPathTagLength,
    bool SpawnUpstreamSpan,
    bool NoContextPropagation,
    SpanDirection Direction)
{
    /// <summary>Envoy's Tracing::DefaultMaxPathTagLength.</summary>
    public const int DefaultMaxPathTagLength = 256;

    /// <summary><c>operation</c> compiled: the downstream span's name, set as it is finished; null when unset.</summary>
    public SubstitutionFormatter? Operation { get; init; }

    /// <summary><c>upstream_operation</c> compiled: each upstream span's name, set as it is finished; null when unset.</summary>
    public SubstitutionFormatter? UpstreamOperation { get; init; }
}

/// <summary>A route's decorator and <c>tracing</c>, compiled.</summary>
/// <param name="Operation">The decorator's operation, or null without a decorator.</param>
/// <param name="Propagate">The decorator's <c>propagate</c> (default true).</param>
/// <param name="Sampling">The route's sampling, which replaces the connection manager's (each part defaulting to 100 %), or null.</param>
/// <param name="CustomTags">The route's custom tags (they win over the connection manager's of the same name, as Envoy merges them).</param>
internal sealed record RouteTracingPlan(string? Operation, bool Propagate, TracingSampling? Sampling, CustomTagPlan[] CustomTags)
{
    /// <summary>The route's <c>tracing.operation</c> compiled (it wins over the connection manager's); null when unset.</summary>
    public SubstitutionFormatter? SpanOperation { get; init; }

    /// <summary>The route's <c>tracing.upstream_operation</c> compiled (it wins over the connection manager's); null when unset.</summary>
    public SubstitutionFormatter? UpstreamOperation { get; init; }
}

/// <summary>The local node as tracers and span tags see it (Envoy's LocalInfo).</summary>
/// <param name="NodeId"><c>node.id</c>.</param>
/// <param name="ServiceCluster"><c>node.cluster</c>.</param>
/// <param name="Zone"><c>node.locality.zone</c>.</param>
internal sealed record LocalNode(string NodeId, string ServiceCluster, string Zone)
{
    public static LocalNode From(Node? node) => new(node?.Id ?? string.Empty, node?.Cluster ?? string.Empty, node?.Locality?.Zone ?? string.Empty);
}

/// <summary>The compile step of the tracing configuration (Envoy's http_connection_manager config.cc and config_impl.cc parts).</summary>
internal static class TracingCompiler
{
    /// <summary>
    /// The connection manager's tracing, or null without an HCM <c>tracing</c> block. Its provider is the HCM's, else
    /// the bootstrap's <c>tracing.http</c> (Envoy's getPerFilterTracerConfig), else none (nothing is traced).
    /// </summary>
    public static ConnectionManagerTracingPlan? Compile(HcmTracing? tracing, BootstrapTracing? bootstrap, TrafficDirection direction, EnvoyTypeRegistry types)
    {
        if (tracing is null)
        {
            return null;
        }
        var provider = tracing.Provider ?? bootstrap?.Http;
        TracerProviderPlan? providerPlan = null;
        if (provider?.TypedConfig is { } config && types.FindTracer(config.GetType()) is { } factory)
        {
            providerPlan = new TracerProviderPlan(provider.Name ?? string.Empty, config, factory,
                provider.Name + "\n" + Admin.ConfigJson.Message(config, asAny: true).ToPrettyString());
        }
        // client_sampling is a whole percentage out of 100 in Envoy; random and overall are rounded out of 10,000.
        var sampling = new TracingSampling(
            tracing.ClientSampling is { } client ? Percentage.From(new FractionalPercent { Numerator = (uint)client.Value, Denominator = DenominatorType.Hundred }) : Percentage.Always,
            TracingSampling.FromPercent(tracing.RandomSampling, Percentage.Always),
            TracingSampling.FromPercent(tracing.OverallSampling, Percentage.Always));
        return new ConnectionManagerTracingPlan(
            providerPlan,
            sampling,
            CustomTagPlan.CompileAll(tracing.CustomTags),
            tracing.Verbose,
            (int)Math.Min(int.MaxValue, tracing.MaxPathTagLength ?? ConnectionManagerTracingPlan.DefaultMaxPathTagLength),
            tracing.SpawnUpstreamSpan ?? false,
            tracing.NoContextPropagation,
            direction == TrafficDirection.Outbound ? SpanDirection.Egress : SpanDirection.Ingress)
        {
            Operation = CompileValidOperation(tracing.Operation),
            UpstreamOperation = CompileValidOperation(tracing.UpstreamOperation),
        };
    }

    /// <summary>
    /// An <c>operation</c> / <c>upstream_operation</c> format (Envoy's FormatterImpl with omit_empty_values: an
    /// operator without a value prints nothing, not <c>-</c>); errors are reported at <paramref name="field"/>.
    /// </summary>
    public static SubstitutionFormatter? CompileOperation(string text, ValidationContext context, EnvoyMessage owner, string field)
        => SubstitutionFormatter.Compile(text, context, owner, field, omitEmptyValues: true);

    // Validation reported a format's errors, so it compiles here; an empty one is unset, as in Envoy.
    private static SubstitutionFormatter? CompileValidOperation(string? text)
        => string.IsNullOrEmpty(text) ? null : SubstitutionFormatter.CompileOrThrow(text, omitEmptyValues: true);

    /// <summary>A route's decorator and tracing, or null when it has neither.</summary>
    public static RouteTracingPlan? CompileRoute(Route route)
    {
        if (route.Decorator is null && route.Tracing is null)
        {
            return null;
        }
        TracingSampling? sampling = null;
        if (route.Tracing is { } tracing)
        {
            // Envoy's RouteTracingImpl: a part not given is 100 %.
            sampling = new TracingSampling(
                tracing.ClientSampling is { } client ? Percentage.From(client) : Percentage.Always,
                tracing.RandomSampling is { } random ? Percentage.From(random) : Percentage.Always,
                tracing.OverallSampling is { } overall ? Percentage.From(overall) : Percentage.Always);
        }
        return new RouteTracingPlan(
            route.Decorator?.Operation,
            route.Decorator?.Propagate ?? true,
            sampling,
            route.Tracing is { } t ? CustomTagPlan.CompileAll(t.CustomTags) : [])
        {
            SpanOperation = CompileValidOperation(route.Tracing?.Operation),
            UpstreamOperation = CompileValidOperation(route.Tracing?.UpstreamOperation),
        };
    }
}
