using System.Net;
using Gateway.Configuration;
using Gateway.Listeners;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Hosting;

/// <summary>An HCM without <c>http_filters</c>, as Envoy runs it: valid, and no filter (not even the router) answers.</summary>
public class EmptyHttpFiltersTests
{
    private static string NoFilters(EchoUpstream upstream)
        => TestConfigs.Seed("127.0.0.1", upstream.Port, "STATIC", listenerPort: 0, adminPort: 0, listenerAddress: "127.0.0.1")
            .Replace("          http_filters:\n          - name: envoy.filters.http.router\n", "          http_filters: []\n", StringComparison.Ordinal);

    [Fact]
    public void Load_EmptyHttpFilters_IsValid()
    {
        var bootstrap = EnvoyConfigLoader.LoadYaml(TestConfigs.Seed().Replace(
            "          http_filters:\n          - name: envoy.filters.http.router\n", "", StringComparison.Ordinal));

        var hcm = (HttpConnectionManager)bootstrap.StaticResources!.Listeners[0].FilterChains[0].Filters[0].TypedConfig!;
        Assert.Empty(hcm.HttpFilters);
    }

    [Fact]
    public void Load_FiltersNotEndingWithRouter_IsStillRejected()
    {
        var yaml = TestConfigs.Seed().Replace(
            "          - name: envoy.filters.http.router\n",
            "          - name: envoy.filters.http.router\n          - { name: envoy.filters.http.cors, is_optional: true }\n", StringComparison.Ordinal);

        var error = Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(yaml));

        Assert.Contains("must be the last filter in a http filter chain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_NoHttpFilters_WaitsForTheStreamIdleTimeoutThen504()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await InProcessGateway.StartAsync(NoFilters(upstream), services => services.AddSingleton<TimeProvider>(time));

        var pending = gateway.Client.GetAsync(gateway.ListenerUri("/anything"));
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_active", 1);
        // Let the request reach its idle wait before moving the clock (the wait starts at the fake "now").
        await Task.Delay(300);
        time.Advance(Gateway.Translation.ConnectionManagerPlan.DefaultStreamIdleTimeout - TimeSpan.FromSeconds(1));
        await Task.Delay(200);
        Assert.False(pending.IsCompleted);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!pending.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        using var response = await pending;
        // A GET is all in with its headers: Envoy's maybeRequestTimeoutCode answers 504.
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("stream timeout", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_idle_timeout", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_5xx", 1);
        await gateway.AssertStatAsync("http.ingress_http.no_route", 0);
    }
}
