using System.Net;
using Gateway.Listeners;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Listeners;

public class DownstreamRequestValidatorAllocationTests
{
    [Fact]
    public async Task Validate_OrdinaryRequestOnKestrel_AllocatesNothing()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.Run(async context =>
        {
            // Kestrel's own request: its header collection, features and interned method strings.
            var verdict = DownstreamRequestValidator.Validate(context, 60 * 1024);
            var allocated = Allocations.Measure(() => DownstreamRequestValidator.Validate(context, 60 * 1024));
            await context.Response.WriteAsync($"{verdict} {allocated}");
        });
        await app.StartAsync();
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, app.Urls.First() + "/a?b=c");
        request.Headers.TryAddWithoutValidation("X-One", "1");
        request.Headers.TryAddWithoutValidation("X-Two", ["2", "22"]);

        var parts = (await (await client.SendAsync(request)).Content.ReadAsStringAsync()).Split(' ');

        Assert.Equal(nameof(DownstreamVerdict.Accept), parts[0]);
        Assert.Equal("0", parts[1]);
    }
}
