using System.Net;

namespace Gateway.Tests.Admin;

/// <summary><c>/listeners</c> text and <c>?format=json</c> (listeners_handler.cc): the addresses really bound.</summary>
public class ListenersHandlerTests
{
    [Fact]
    public async Task Listeners_Text_NamesEachListenerWithItsBoundAddress()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/listeners");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=UTF-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal($"httpbin-demo::127.0.0.1:{server.ListenerPort}\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Listeners_Json_IsTheListenersProto()
    {
        await using var server = await AdminTestServer.StartAsync();

        using var response = await server.GetAsync("/listeners?format=json");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.ToString());
        Assert.Equal($$"""
            {
             "listener_statuses": [
              {
               "name": "httpbin-demo",
               "local_address": {
                "socket_address": {
                 "address": "127.0.0.1",
                 "port_value": {{server.ListenerPort}}
                }
               }
              }
             ]
            }

            """, await response.Content.ReadAsStringAsync());
    }
}
