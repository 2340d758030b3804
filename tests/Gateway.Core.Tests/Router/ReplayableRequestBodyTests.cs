using Gateway.Router;

namespace Gateway.Tests.Router;

public sealed class ReplayableRequestBodyTests
{
    [Fact]
    public async Task ReadAsync_RewoundMidway_ReplaysTheBufferedPrefixThenContinuesTheClient()
    {
        var source = new MemoryStream([1, 2, 3, 4, 5, 6]);
        using var body = new ReplayableRequestBody(source, limit: 16);
        var first = new byte[4];

        Assert.Equal(4, await body.ReadAsync(first));
        body.Position = 0;
        var all = await ReadAllAsync(body);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, all);
        Assert.False(body.Overflowed);
        Assert.True(body.CanSeek);
    }

    [Fact]
    public async Task ReadAsync_RewoundAfterTheEnd_ReplaysTheWholeBody()
    {
        using var body = new ReplayableRequestBody(new MemoryStream([7, 8, 9]), limit: 3);

        Assert.Equal(new byte[] { 7, 8, 9 }, await ReadAllAsync(body));
        body.Position = 0;

        Assert.Equal(new byte[] { 7, 8, 9 }, await ReadAllAsync(body));
    }

    [Fact]
    public async Task ReadAsync_BodyLongerThanTheLimit_StreamsOnButCannotReplay()
    {
        var payload = new byte[10_000];
        Random.Shared.NextBytes(payload);
        using var body = new ReplayableRequestBody(new MemoryStream(payload), limit: 4096);

        Assert.Equal(payload, await ReadAllAsync(body));

        Assert.True(body.Overflowed);
        Assert.False(body.CanSeek);
        Assert.Throws<NotSupportedException>(() => body.Position = 0);
    }

    [Fact]
    public void Position_NonZero_NotSupported()
    {
        using var body = new ReplayableRequestBody(new MemoryStream([1]), limit: 8);

        Assert.Throws<NotSupportedException>(() => body.Position = 1);
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var output = new MemoryStream();
        var buffer = new byte[3];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }
        return output.ToArray();
    }
}
