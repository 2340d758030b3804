using System.Net;

namespace Gateway.Tests.Admin;

/// <summary><c>/runtime</c> and <c>/runtime_modify</c> (runtime_handler.cc) without a <c>layered_runtime</c>.</summary>
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RuntimeModify_WithParameters_Answers503NoAdminLayer(bool asForm)
    {
        // As a form body: Envoy's AdminFilter::queryParams takes the parameters from it when the query has none.
        await using var server = await AdminTestServer.StartAsync();
        using var form = asForm ? new FormUrlEncodedContent([new("foo", "bar")]) : null;

        using var response = await server.Client.PostAsync(server.Gateway.AdminUri(asForm ? "/runtime_modify" : "/runtime_modify?foo=bar"), form);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("No admin layer specified", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RuntimeModify_WithoutParameters_Answers400WithTheUsage()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.PostAsync("/runtime_modify");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "usage: /runtime_modify?key1=value1&key2=value2&keyN=valueN\n       or send the parameters as form values\nuse an empty value to remove a previously added override",
            await response.Content.ReadAsStringAsync());
    }
}
