using Gateway.Configuration;
using Gateway.Tests.Common;
using Gateway.Tracing;
using Gateway.Translation;

namespace Gateway.Tests.Tracing;

/// <summary>HCM, route, router and bootstrap tracing: binding, validation errors with their paths, and the compile step.</summary>
public class TracingConfigTests
{
    private static EnvoyTypeRegistry Types()
    {
        var types = EnvoyTypeRegistry.CreateDefault();
        types.AddTracer(new RecordingTracerFactory());
        return types;
    }

    private static GatewayPlan Translate(string yaml)
    {
        var types = Types();
        return EnvoyTranslator.Translate(EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml", types), types);
    }

    private static IReadOnlyList<ConfigError> Errors(string yaml)
        => Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml, "envoy.yaml", Types())).Errors;

    [Fact]
    public void Compile_Defaults_AreEnvoys()
    {
        var plan = Translate(TracingYaml.Build(1)).Listeners[0].FilterChains[0].ConnectionManager;

        var tracing = Assert.IsType<ConnectionManagerTracingPlan>(plan.Tracing);
        Assert.True(tracing.Sampling.Client.IsAlways);
        Assert.True(tracing.Sampling.Random.IsAlways);
        Assert.True(tracing.Sampling.Overall.IsAlways);
        Assert.Equal(256, tracing.MaxPathTagLength);
        Assert.False(tracing.Verbose);
        Assert.False(tracing.SpawnUpstreamSpan);
        Assert.Equal(SpanDirection.Ingress, tracing.Direction);
        Assert.Equal("gateway.tests.recording", tracing.Provider!.Name);
        Assert.False(plan.StartChildSpan);
    }

    [Fact]
    public void Compile_NoTracingBlock_DoesNotTrace()
    {
        var yaml = TracingYaml.Build(1).Replace("              tracing:\n", string.Empty, StringComparison.Ordinal)
            .Replace(ListenerYaml.Indent(TracingYaml.RecordingProvider, 12), string.Empty, StringComparison.Ordinal);

        Assert.Null(Translate(yaml).Listeners[0].FilterChains[0].ConnectionManager.Tracing);
    }

    [Fact]
    public void Compile_Percentages_ConvertAsEnvoy()
    {
        // random and overall: round(percent * 100) out of 10,000; client: the whole percent out of 100.
        var plan = Translate(TracingYaml.Build(1, tracing: TracingYaml.RecordingProvider + """

            random_sampling: { value: 10.005 }
            overall_sampling: { value: 0 }
            client_sampling: { value: 50.9 }
            max_path_tag_length: 12
            verbose: true
            spawn_upstream_span: true
            """)).Listeners[0].FilterChains[0].ConnectionManager.Tracing!;

        Assert.True(plan.Sampling.Overall.IsNever);
        Assert.True(plan.Sampling.Random.Evaluate(new ScriptedRandom(1000)));
        Assert.False(plan.Sampling.Random.Evaluate(new ScriptedRandom(1001)));
        Assert.True(plan.Sampling.Client.Evaluate(new ScriptedRandom(49)));
        Assert.False(plan.Sampling.Client.Evaluate(new ScriptedRandom(50)));
        Assert.Equal(12, plan.MaxPathTagLength);
        Assert.True(plan.Verbose);
        Assert.True(plan.SpawnUpstreamSpan);
    }

    [Fact]
    public void Compile_RouteDecoratorAndTracing_ReplaceTheSampling()
    {
        var plan = Translate(TracingYaml.Build(1, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              decorator: { operation: checkout, propagate: false }
              tracing:
                random_sampling: { numerator: 0 }
                custom_tags: [ { tag: t, literal: { value: v } } ]
            """, router: "start_child_span: true", listener: "traffic_direction: OUTBOUND")).Listeners[0].FilterChains[0].ConnectionManager;

        var route = plan.Routes[0].Tracing!;
        Assert.Equal("checkout", route.Operation);
        Assert.False(route.Propagate);
        Assert.True(route.Sampling!.Value.Random.IsNever);
        Assert.True(route.Sampling.Value.Client.IsAlways);
        Assert.True(route.Sampling.Value.Overall.IsAlways);
        Assert.Equal("t", Assert.Single(route.CustomTags).Tag);
        Assert.True(plan.StartChildSpan);
        Assert.Equal(SpanDirection.Egress, plan.Tracing!.Direction);
    }

    [Fact]
    public void Compile_NoProvider_FallsBackToTheBootstrapTracer()
    {
        var plan = Translate(TracingYaml.Build(1, tracing: "verbose: true", bootstrap: """
            tracing:
              http:
                name: gateway.tests.recording
                typed_config: { "@type": type.googleapis.com/gateway.tests.RecordingTracerConfig, label: from-bootstrap }
            """)).Listeners[0].FilterChains[0].ConnectionManager.Tracing!;

        Assert.Equal("from-bootstrap", ((RecordingTracerConfig)plan.Provider!.Config).Label);
    }

    [Fact]
    public void Compile_NoProviderAnywhere_TracesWithTheNullTracer()
    {
        var plan = Translate(TracingYaml.Build(1, tracing: "verbose: true")).Listeners[0].FilterChains[0].ConnectionManager.Tracing!;

        Assert.Null(plan.Provider);
    }

    [Fact]
    public void Validate_BadTracing_ReportsEveryErrorAtItsField()
    {
        var errors = Errors(TracingYaml.Build(1, tracing: """
            random_sampling: { value: 101 }
            custom_tags:
            - { tag: "", literal: { value: x } }
            - { tag: two, literal: { value: x }, environment: { name: X } }
            - { tag: header, request_header: { name: "bad header" } }
            - { tag: md, metadata: { kind: { route: {} }, metadata_key: { key: ns } } }
            provider:
              name: gateway.tests.recording
              typed_config: { "@type": type.googleapis.com/gateway.tests.RecordingTracerConfig, invalid: nope }
            """, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              decorator: { operation: "" }
            """));

        Assert.Equal(
        [
            "'random_sampling' must be between 0 and 100 (got 101)",
            "'tag' is required and may not be empty",
            "a custom tag needs exactly one of literal, environment, request_header, response_header, metadata",
            "'name' must be a valid HTTP header name (got 'bad header')",
            "'path' needs at least one segment",
            "recording tracer: nope",
            "'operation' is required and may not be empty",
        ], errors.Select(e => e.Message));
        Assert.All(errors, e => Assert.Equal("envoy.yaml", e.Location.Source));
    }

    [Fact]
    public void Load_UnknownProviderType_IsAnErrorNamingThePath()
    {
        var errors = Errors(TracingYaml.Build(1, tracing: """
            provider:
              name: envoy.tracers.datadog
              typed_config: { "@type": type.googleapis.com/envoy.config.trace.v3.DatadogConfig }
            """));

        var error = Assert.Single(errors);
        Assert.Contains("DatadogConfig", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_OperationFormats_CompiledOnTheConnectionManagerAndRoute()
    {
        var plan = Translate(TracingYaml.Build(1, tracing: TracingYaml.RecordingProvider + """

            operation: "%REQ(x-op)%"
            upstream_operation: fixed-upstream
            """, routes: """
            - match: { prefix: "/r" }
              route: { cluster: echo }
              tracing: { operation: "route-%REQ(x-op)%", upstream_operation: "route-up-%REQ(x-missing)%" }
            - match: { prefix: "/" }
              route: { cluster: echo }
            """)).Listeners[0].FilterChains[0].ConnectionManager;

        var request = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        request.Request.Headers["x-op"] = "op";
        var context = new Gateway.Formatting.FormatterContext(request, null);
        Assert.Equal("op", plan.Tracing!.Operation!.Format(context));
        Assert.Equal("fixed-upstream", plan.Tracing.UpstreamOperation!.Format(context));
        var route = plan.Routes[0].Tracing!;
        Assert.Equal("route-op", route.SpanOperation!.Format(context));
        // An operator without a value prints nothing (Envoy's omit_empty_values), not "-".
        Assert.Equal("route-up-", route.UpstreamOperation!.Format(context));
        Assert.Null(plan.Routes[1].Tracing);
    }

    [Fact]
    public void Compile_NoOperation_NothingCompiled()
    {
        var plan = Translate(TracingYaml.Build(1, tracing: TracingYaml.RecordingProvider + "\noperation: \"\"", routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              tracing: { custom_tags: [ { tag: t, literal: { value: v } } ] }
            """)).Listeners[0].FilterChains[0].ConnectionManager;

        Assert.Null(plan.Tracing!.Operation);
        Assert.Null(plan.Tracing.UpstreamOperation);
        Assert.Null(plan.Routes[0].Tracing!.SpanOperation);
        Assert.Null(plan.Routes[0].Tracing!.UpstreamOperation);
    }

    [Fact]
    public void Validate_BadOperationFormats_ReportEnvoysParserErrorsAtEachField()
    {
        var errors = Errors(TracingYaml.Build(1, tracing: TracingYaml.RecordingProvider + """

            operation: "%NOT_AN_OPERATOR%"
            upstream_operation: "%REQ(x"
            """, routes: """
            - match: { prefix: "/" }
              route: { cluster: echo }
              tracing: { operation: "%REQ()%" }
            """));

        Assert.Equal(3, errors.Count);
        Assert.EndsWith(".tracing.operation", errors[0].Location.Path, StringComparison.Ordinal);
        Assert.Contains("NOT_AN_OPERATOR", errors[0].Message, StringComparison.Ordinal);
        Assert.EndsWith(".tracing.upstream_operation", errors[1].Location.Path, StringComparison.Ordinal);
        Assert.EndsWith("routes[0].tracing.operation", errors[2].Location.Path, StringComparison.Ordinal);
    }
}
