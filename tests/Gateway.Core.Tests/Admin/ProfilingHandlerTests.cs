using System.Net;

namespace Gateway.Tests.Admin;

/// <summary>
/// <c>/cpuprofiler</c>, <c>/heapprofiler</c>, <c>/heap_dump</c>, <c>/contention</c>, <c>/init_dump</c>: what an Envoy
/// built without profilers, tcmalloc or mutex tracing answers (profiling_handler.cc, stats_handler.cc, init_dump_handler.cc).
/// </summary>
public class ProfilingHandlerTests
{
    [Theory]
    [InlineData("POST", "/cpuprofiler?enable=y", 500, "failure to start the profiler")]
    [InlineData("POST", "/cpuprofiler?enable=n", 200, "OK\n")]
    [InlineData("POST", "/cpuprofiler", 400, "?enable=<y|n>\n")]
    [InlineData("POST", "/cpuprofiler?enable=yes", 400, "?enable=<y|n>\n")]
    [InlineData("POST", "/cpuprofiler?enable=y&x=1", 400, "?enable=<y|n>\n")]
    [InlineData("GET", "/cpuprofiler?enable=y", 405, "Method GET not allowed, POST required.")]
    [InlineData("POST", "/heapprofiler?enable=y", 501, "The current build does not support heap profiler")]
    [InlineData("GET", "/heap_dump", 501, "Heap profile is not implemented in current build")]
    [InlineData("GET", "/contention", 200, "Mutex contention tracing is not enabled. To enable, run Envoy with flag --enable-mutex-tracing.")]
    public async Task Endpoint_WithoutTheFacility_AnswersAsEnvoyBuiltWithoutIt(string method, string path, int status, string body)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var request = new HttpRequestMessage(new HttpMethod(method), server.Gateway.AdminUri(path));
        using var response = await server.Client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/init_dump")]
    [InlineData("/init_dump?mask=listener")]
    public async Task InitDump_StaticListenersStarted_ListsNoUnreadyTarget(string path)
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("{}\n", await response.Content.ReadAsStringAsync());
    }
}
