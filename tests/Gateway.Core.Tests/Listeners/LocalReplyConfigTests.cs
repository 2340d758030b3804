using System.Net;
using Gateway.Configuration;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Listeners;

/// <summary>The connection manager's <c>local_reply_config</c> through real Kestrel: mappers, body formats, content types.</summary>
public class LocalReplyConfigTests
{
    /// <summary>One listener whose HCM has <paramref name="localReply"/> (flush-left, under local_reply_config) and routes /direct to a direct response; other paths match no route.</summary>
    private static string Yaml(string localReply) => Common.ListenerYaml.Build(
        upstreamPort: 1,
        httpFilters: "",
        routes: """
            - match: { path: "/direct" }
              direct_response: { status: 503, body: { inline_string: "down for maintenance" } }
            """,
        connectionManager: "local_reply_config:\n" + Common.ListenerYaml.Indent(Common.ListenerYaml.Dedent(localReply), 2));

    [Fact]
    public async Task Mapper_EnvoyDemosHtmlPage_RewritesTheNoRouteReply()
    {
        // The mapper of Envoy's own envoy-demo.yaml.
        await using var gateway = await InProcessGateway.StartAsync(Yaml("""
            mappers:
            - filter:
                header_filter:
                  header: { name: ":method", string_match: { exact: "GET" } }
              body_format_override:
                text_format_source: { inline_string: "<html><body><h1>Welcome to Envoy</h1></body></html>" }
                content_type: "text/html; charset=UTF-8"
            """));

        using var get = await gateway.Client.GetAsync(gateway.ListenerUri("/nowhere"));
        using var post = await gateway.Client.PostAsync(gateway.ListenerUri("/nowhere"), new StringContent("x"));

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("text/html; charset=UTF-8", get.Content.Headers.ContentType!.ToString());
        Assert.Equal("<html><body><h1>Welcome to Envoy</h1></body></html>", await get.Content.ReadAsStringAsync());
        // No mapper matched and the reply had no body: nothing to format, no content type.
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Equal(string.Empty, await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Mapper_StatusBodyAndHeaders_ThenTheGlobalJsonFormat()
    {
        await using var gateway = await InProcessGateway.StartAsync(Yaml("""
            mappers:
            - filter:
                status_code_filter: { comparison: { op: EQ, value: { default_value: 503, runtime_key: unused } } }
              status_code: 502
              body: { inline_string: "mapped" }
              headers_to_add:
              - header: { key: x-mapped, value: "%RESPONSE_CODE%" }
            body_format:
              json_format: { status: "%RESPONSE_CODE%", message: "%LOCAL_REPLY_BODY%", path: "%REQ(:PATH)%" }
            """));

        using var direct = await gateway.Client.GetAsync(gateway.ListenerUri("/direct"));
        using var missing = await gateway.Client.GetAsync(gateway.ListenerUri("/nowhere"));

        // The direct response is a local reply too, as in Envoy's router.
        Assert.Equal(HttpStatusCode.BadGateway, direct.StatusCode);
        Assert.Equal("application/json", direct.Content.Headers.ContentType!.MediaType);
        Assert.Equal("{\"message\":\"mapped\",\"path\":\"/direct\",\"status\":502}\n", await direct.Content.ReadAsStringAsync());
        // The header was evaluated before the status changed (Envoy's order in matchAndRewrite).
        Assert.Equal("503", Assert.Single(direct.Headers.GetValues("x-mapped")));
        // Unmatched: the global format over the reply's own (empty) body.
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("{\"message\":\"\",\"path\":\"/nowhere\",\"status\":404}\n", await missing.Content.ReadAsStringAsync());
        Assert.False(missing.Headers.Contains("x-mapped"));
    }

    [Fact]
    public async Task BodyFormat_Text_WrapsTheLocalReplyBody()
    {
        await using var gateway = await InProcessGateway.StartAsync(Yaml("""
            body_format:
              text_format_source: { inline_string: "[%RESPONSE_CODE%] %LOCAL_REPLY_BODY%" }
            """));

        using var direct = await gateway.Client.GetAsync(gateway.ListenerUri("/direct"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, direct.StatusCode);
        Assert.Equal("text/plain", direct.Content.Headers.ContentType!.MediaType);
        Assert.Equal("[503] down for maintenance", await direct.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("mappers:\n- status_code: 500", "mappers[0].filter", "Proto constraint validation failed (ResponseMapperValidationError.Filter: value is required)")]
    [InlineData("mappers:\n- filter: { not_health_check_filter: {} }\n  status_code: 700", "mappers[0].status_code", "Proto constraint validation failed (ResponseMapperValidationError.StatusCode: value must be inside range [200, 600))")]
    [InlineData("mappers:\n- filter: { not_health_check_filter: {} }\n  body: { filename: /no/such/file }", "mappers[0].body.filename", "Invalid path: /no/such/file")]
    public void Load_BadMapper_ErrorAtItsPath(string localReply, string field, string message)
    {
        var error = Assert.Single(Assert.Throws<EnvoyConfigException>(() => EnvoyConfigLoader.LoadYaml(Yaml(localReply), "envoy.yaml")).Errors);

        Assert.Equal(("static_resources.listeners[0].filter_chains[0].filters[0].typed_config.local_reply_config." + field, message), (error.Location.Path, error.Message));
    }
}
