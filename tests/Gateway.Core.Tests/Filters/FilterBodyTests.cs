using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Filters;
using Gateway.Tests.Common;
using Gateway.Tests.Hosting;

namespace Gateway.Tests.Filters;

/// <summary>A filter that asks for the bodies: it gets them buffered within Envoy's limit, and what it sets is what goes on.</summary>
public class FilterBodyTests
{
    private static string Config(EchoUpstream upstream, string retry = "")
        => ListenerYaml.Build(
            upstream.Port,
            """
            - name: upper
              typed_config: { "@type": type.googleapis.com/gateway.tests.UpperBody }
            """,
            routes: $$"""
            - match: { prefix: "/" }
              route: { cluster: echo{{retry}} }
            """);

    private static Task<InProcessGateway> StartAsync(string yaml)
        => InProcessGateway.StartAsync(yaml, configureGateway: g => g.AddHttpFilter<UpperBodyFilterFactory>());

    [Fact]
    public async Task RequestBody_FilterReplacesIt_UpstreamGetsTheNewBodyWithItsLength()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream));

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/post"), new StringContent("hello body"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("HELLO BODY", Assert.Single(upstream.Bodies));
        Assert.Contains("\"content-length\":\"10\"", text, StringComparison.Ordinal);
        Assert.EndsWith("<upper>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestBody_ChunkedRequest_IsBufferedAndSentWithContentLength()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream));
        var content = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes("chunked one")));
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.ListenerUri("/post")) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CHUNKED ONE", Assert.Single(upstream.Bodies));
        Assert.Contains("\"content-length\":\"11\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("transfer-encoding", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestBody_OverTheBufferLimit_Is413PayloadTooLarge()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream));

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/post"), new ByteArrayContent(new byte[FilterChainStream.BufferLimit + 1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        // The local reply goes through the encoders of the filters the request passed, as in Envoy.
        Assert.Equal("Payload Too Large<upper>", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Requests);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_too_large", 1);
        await gateway.AssertStatAsync("http.ingress_http.downstream_rq_4xx", 1);
    }

    [Fact]
    public async Task ResponseBody_FilterAppends_ClientGetsTheNewBodyWithItsLength()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri("/bytes/5"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("xxxxx<upper>", body);
        Assert.Equal(12, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task ResponseBody_OverTheBufferLimit_Is500AndRsTooLarge()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream));

        using var response = await gateway.Client.GetAsync(gateway.ListenerUri($"/bytes/{FilterChainStream.BufferLimit + 1}"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("Internal Server Error", await response.Content.ReadAsStringAsync());
        await gateway.AssertStatAsync("http.ingress_http.rs_too_large", 1);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_200", 1);
    }

    [Fact]
    public async Task RequestBody_Retried_EveryAttemptGetsTheFilteredBody()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await StartAsync(Config(upstream, ", retry_policy: { retry_on: 5xx, num_retries: 2 }"));

        using var response = await gateway.Client.PostAsync(gateway.ListenerUri("/flaky/1/503"), new StringContent("again"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["AGAIN", "AGAIN"], upstream.Bodies);
        await gateway.AssertStatAsync("cluster.echo.upstream_rq_retry", 1);
    }
}

[EnvoyType("gateway.tests.UpperBody")]
public sealed class UpperBodyConfig : EnvoyMessage;

/// <summary>Upper-cases the request body; appends <c>&lt;upper&gt;</c> to the response body.</summary>
internal sealed class UpperBodyFilterFactory : HttpFilterFactory<UpperBodyConfig>
{
    public override string Name => "gateway.tests.upper_body";

    protected override IHttpFilter CreateFilter(UpperBodyConfig config, HttpFilterFactoryContext context) => new UpperBodyFilter();

    private sealed class UpperBodyFilter : IHttpFilter
    {
        private static readonly byte[] Suffix = Encoding.ASCII.GetBytes("<upper>");

        public HttpFilterHooks Hooks => HttpFilterHooks.RequestBody | HttpFilterHooks.ResponseBody;

        public ValueTask<FilterStatus> OnRequestBodyAsync(HttpFilterContext context)
        {
            context.RequestBody = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(context.RequestBody.Span).ToUpperInvariant());
            return new(FilterStatus.Continue);
        }

        public ValueTask<FilterStatus> OnResponseBodyAsync(HttpFilterContext context)
        {
            context.ResponseBody = context.ResponseBody.ToArray().Concat(Suffix).ToArray();
            return new(FilterStatus.Continue);
        }
    }
}
