using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Filters.Middleware;
using Gateway.Tests.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Filters.Middleware;

/// <summary>
/// ASP.NET middleware pipelines as decoder filters (<c>gateway.filters.http.middleware</c>) through the in-process
/// gateway in front of the echo upstream: real authentication and authorization, a custom IMiddleware answering
/// itself, order with other filters, per-route disabling, and the configuration checks.
/// </summary>
public class MiddlewareFilterTests
{
    private const string RecordingType = "type.googleapis.com/gateway.tests.RecordingFilter";
    private const string MiddlewareType = "type.googleapis.com/gateway.filters.http.middleware.v1.Middleware";
    private static readonly JsonSerializerOptions EchoJson = new(JsonSerializerDefaults.Web);

    /// <summary>Recording filter a, the middleware filter running <paramref name="pipeline"/>, recording filter c, the router.</summary>
    private static string Yaml(EchoUpstream upstream, string pipeline)
        => $$"""
        admin:
          address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
        static_resources:
          listeners:
          - name: httpbin-demo
            address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress_http
                  http_filters:
                  - name: a
                    typed_config: { "@type": {{RecordingType}}, label: a }
                  - name: mw
                    typed_config: { "@type": {{MiddlewareType}}, pipeline: {{pipeline}} }
                  - name: c
                    typed_config: { "@type": {{RecordingType}}, label: c, stop_on_header: x-stop }
                  - name: envoy.filters.http.router
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: main
                      domains: ["*"]
                      routes:
                      - name: public
                        match: { prefix: "/public" }
                        route: { cluster: echo }
                        typed_per_filter_config:
                          mw: { "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig, disabled: true }
                      - name: upstream
                        match: { prefix: "/" }
                        route: { cluster: echo }
          clusters:
          - name: echo
            type: STATIC
            load_assignment:
              cluster_name: echo
              endpoints:
              - lb_endpoints:
                - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstream.Port}} } } }
        """;

    private sealed class Setup
    {
        public RecordingFilterFactory Recording { get; } = new();

        public int AuthBuilds;

        public async Task<InProcessGateway> StartAsync(EchoUpstream upstream, string pipeline)
            => await InProcessGateway.StartAsync(
                Yaml(upstream, pipeline),
                configureServices: services =>
                {
                    services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
                    services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
                    services.AddSingleton<AnsweringMiddleware>();
                    services.AddOutputCache(o => o.AddBasePolicy(b => b.Cache()));
                },
                configureGateway: gateway => gateway
                    .AddHttpFilter(Recording)
                    .AddMiddlewareFilter("auth", app =>
                    {
                        Interlocked.Increment(ref AuthBuilds);
                        app.UseAuthentication().UseAuthorization();
                        // After authorization: the user is known; tell the upstream who it is.
                        app.Use((context, next) =>
                        {
                            context.Request.Headers["x-user"] = context.User.Identity!.Name;
                            return next(context);
                        });
                    })
                    .AddMiddlewareFilter("answering", app => app.UseMiddleware<AnsweringMiddleware>())
                    .AddMiddlewareFilter("cache", app => app.UseOutputCache()));
    }

    [Fact]
    public async Task Request_AuthPipelineWithoutCredentials_Returns401UpstreamNotCalled()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "auth");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Test", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("envoy", Assert.Single(response.Headers.GetValues("server")));
        // The answer had not started: the encoder of the filter before the pipeline saw it; c never ran.
        Assert.Equal("a", Assert.Single(response.Headers.GetValues("x-encoded-by")));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_completed", 1);
        Assert.Equal(["a:request", "a:response:401", "a:complete"], setup.Recording.Calls);
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
        Assert.Equal(0, await gateway.StatAsync("http.ingress_http.rq_total") ?? 0);
    }

    [Fact]
    public async Task Request_AuthPipelineWithCredentials_ForwardedWithTheUser()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "auth");
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("authorization", "Test alice");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echoed = JsonSerializer.Deserialize<EchoedRequest>(await response.Content.ReadAsStringAsync(), EchoJson)!;
        Assert.Equal("alice", echoed.Headers["x-user"]);
        Assert.Equal(["c", "a"], response.Headers.GetValues("x-encoded-by"));
        Assert.Equal(["a:request", "c:request", "c:response:200", "a:response:200", "a:complete", "c:complete"], setup.Recording.Calls);
        Assert.Equal(1, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 1);
    }

    [Fact]
    public async Task Request_ManyRequests_PipelineBuiltOncePerConfigurationLoad()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "auth");

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(1, setup.AuthBuilds);
    }

    [Fact]
    public async Task Request_RouteDisablesTheFilter_ForwardedWithoutCredentials()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "auth");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/public/x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        Assert.Equal(["a:request", "c:request", "c:response:200", "a:response:200", "a:complete", "c:complete"], setup.Recording.Calls);
    }

    [Fact]
    public async Task Request_MiddlewareAnswersWithoutBody_StopsChainEarlierEncodersRun()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "answering");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/answer"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("middleware", Assert.Single(response.Headers.GetValues("x-answered-by")));
        Assert.Equal("a", Assert.Single(response.Headers.GetValues("x-encoded-by")));
        Assert.Equal(["a:request", "a:response:202", "a:complete"], setup.Recording.Calls);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Request_MiddlewareWritesABody_ClientGetsItEncodersSkipped()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "answering");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/cached"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("from the middleware's cache", await response.Content.ReadAsStringAsync());
        // The middleware started the response itself: too late for the encoders.
        Assert.False(response.Headers.Contains("x-encoded-by"));
        Assert.Equal(["a:request", "a:complete"], setup.Recording.Calls);
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Request_MiddlewareCallsNext_Forwarded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "answering");

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, upstream.Requests);
        Assert.Contains("c:request", setup.Recording.Calls);
    }

    [Fact]
    public async Task Request_FilterAfterThePipelineRepliesLocally_ThatReplyGoesOut()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "answering");
        using var request = new HttpRequestMessage(HttpMethod.Get, gateway.ListenerUri("/get"));
        request.Headers.Add("x-stop", "1");

        using var response = await gateway.Client.SendAsync(request);

        // c runs inside the pipeline's next; its local reply is the response, through c's and a's encoders.
        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("stopped by c", await response.Content.ReadAsStringAsync());
        Assert.Equal(["c", "a"], response.Headers.GetValues("x-encoded-by"));
        Assert.Equal(0, upstream.Requests);
    }

    [Fact]
    public async Task Request_OutputCachingPipeline_SecondRequestServedFromTheCache()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        var setup = new Setup();
        await using var gateway = await setup.StartAsync(upstream, "cache");

        using var first = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
        var firstBody = await first.Content.ReadAsStringAsync();
        using var second = await gateway.Client.GetAsync(gateway.ListenerUri("/get"));
        var secondBody = await second.Content.ReadAsStringAsync();

        // The rest of the chain ran inside the pipeline's next: the cache stored the upstream's response and answered
        // the second request with it, upstream untouched.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(firstBody, secondBody);
        Assert.Contains("\"Path\":\"/get\"", firstBody, StringComparison.Ordinal);
        Assert.Equal(1, upstream.Requests);
        Assert.Contains("c:response:200", setup.Recording.Calls);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_200", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_2xx", 2);
    }

    private static string WithMiddlewareFilter(string config)
        => TestConfigs.Seed().Replace("          - name: envoy.filters.http.router",
            $"          - name: mw\n            typed_config: {{ \"@type\": {MiddlewareType}{config} }}\n          - name: envoy.filters.http.router", StringComparison.Ordinal);

    [Fact]
    public void Load_UnknownPipeline_ErrorAtItsLocationListsTheRegisteredOnes()
    {
        var types = EnvoyTypeRegistry.CreateDefault().AddMiddlewareFilter("auth", _ => { }).AddMiddlewareFilter("cache", _ => { });

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithMiddlewareFilter(", pipeline: atuh"), types: types)).Errors);

        Assert.Equal("unknown middleware pipeline 'atuh' (the pipelines registered are: auth, cache)", error.Message);
        Assert.Equal("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.pipeline", error.Location.Path);
        Assert.Equal(18, error.Location.Line);
    }

    [Fact]
    public void Load_NoPipeline_IsRequired()
    {
        var types = EnvoyTypeRegistry.CreateDefault().AddMiddlewareFilter("auth", _ => { });

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithMiddlewareFilter(string.Empty), types: types)).Errors);

        Assert.Equal("'pipeline' is required: the name of a middleware pipeline registered with AddMiddlewareFilter (the pipelines registered are: auth)", error.Message);
    }

    [Fact]
    public void Load_MisspeltPipelineField_OneError()
    {
        var types = EnvoyTypeRegistry.CreateDefault().AddMiddlewareFilter("auth", _ => { });

        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(WithMiddlewareFilter(", pipelin: auth"), types: types)).Errors);

        Assert.Equal("unknown field 'pipelin' in gateway.filters.http.middleware.v1.Middleware (did you mean 'pipeline'?)", error.Message);
    }

    [Fact]
    public void AddMiddlewareFilter_SameNameTwice_Throws()
    {
        var types = EnvoyTypeRegistry.CreateDefault().AddMiddlewareFilter("auth", _ => { });

        Assert.Throws<ArgumentException>(() => types.AddMiddlewareFilter("auth", _ => { }));
    }

    [Fact]
    public void AddMiddlewareFilter_AfterAConfigurationLoaded_Throws()
    {
        var types = EnvoyTypeRegistry.CreateDefault().AddMiddlewareFilter("auth", _ => { });
        EnvoyConfigLoader.LoadYaml(WithMiddlewareFilter(", pipeline: auth"), types: types);

        Assert.Throws<InvalidOperationException>(() => types.AddMiddlewareFilter("late", _ => { }));
    }

    /// <summary>Authenticates <c>authorization: Test &lt;name&gt;</c>; challenges with 401 and <c>www-authenticate: Test</c>.</summary>
    private sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Test";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith(SchemeName + " ", StringComparison.Ordinal))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, header[(SchemeName.Length + 1)..])], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = SchemeName;
            return Task.CompletedTask;
        }
    }

    /// <summary>A custom IMiddleware: answers /answer (202, no body) and /cached (a body) itself, passes the rest on.</summary>
    private sealed class AnsweringMiddleware : IMiddleware
    {
        public Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            var path = context.Request.Path.Value;
            if (path == "/answer")
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                context.Response.Headers["x-answered-by"] = "middleware";
                return Task.CompletedTask;
            }
            if (path == "/cached")
            {
                return context.Response.WriteAsync("from the middleware's cache");
            }
            return next(context);
        }
    }
}
