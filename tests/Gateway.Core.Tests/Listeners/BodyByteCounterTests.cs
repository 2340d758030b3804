using System.Text;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Listeners;

public class BodyByteCounterTests
{
    [Fact]
    public async Task Install_BodiesReadAndWritten_CountsBothWaysAndMarksTheEndOfTheRequest()
    {
        var time = new FakeTimeProvider();
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(Encoding.ASCII.GetBytes("hello world"));
        var sent = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(sent));
        var info = new RequestStreamInfo(context, time, time.GetTimestamp());

        BodyByteCounter.Install(context, info);
        time.Advance(TimeSpan.FromMilliseconds(7));
        var buffer = new byte[4];
        while (await context.Request.Body.ReadAsync(buffer) > 0)
        {
        }
        await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes("abc"));
        await context.Response.BodyWriter.WriteAsync(Encoding.ASCII.GetBytes("de"));
        await context.Response.CompleteAsync();

        Assert.Equal(11, info.BytesReceived);
        Assert.Equal(5, info.BytesSent);
        Assert.Equal("abcde", Encoding.ASCII.GetString(sent.ToArray()));
        Assert.Equal(TimeSpan.FromMilliseconds(7), info.LastDownstreamRxByteReceived);
    }

    [Fact]
    public void RequestStreamInfo_NothingHappened_TimingsAreNull()
    {
        var time = new FakeTimeProvider();
        var info = new RequestStreamInfo(new DefaultHttpContext(), time, time.GetTimestamp());

        Assert.Null(info.LastDownstreamRxByteReceived);
        Assert.Null(info.FirstUpstreamTxByteSent);
        Assert.Null(info.FirstUpstreamRxByteReceived);
        Assert.Null(info.Duration);
        time.Advance(TimeSpan.FromSeconds(2));
        info.Complete();
        time.Advance(TimeSpan.FromSeconds(2));
        info.Complete();
        Assert.Equal(TimeSpan.FromSeconds(2), info.Duration);
        Assert.Equal(200, info.ResponseCode);
    }
}
