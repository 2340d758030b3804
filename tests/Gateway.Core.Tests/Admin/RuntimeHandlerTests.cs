namespace Gateway.Tests.Admin;

/// <summary><c>/runtime</c> (runtime_handler.cc) without a <c>layered_runtime</c>.</summary>
public class RuntimeHandlerTests
{
    [Fact]
    public async Task Runtime_NoLayeredRuntime_HasNoLayersAndNoEntries()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/runtime");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("{\n \"entries\": {},\n \"layers\": []\n}\n", await response.Content.ReadAsStringAsync());
    }
}
