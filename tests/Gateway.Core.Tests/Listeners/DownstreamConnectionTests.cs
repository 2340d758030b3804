using System.IO.Pipelines;
using Gateway.Listeners;

namespace Gateway.Tests.Listeners;

public sealed class DownstreamConnectionTests
{
    private sealed class Transport(Pipe input, Pipe output) : IDuplexPipe
    {
        public PipeReader Input => input.Reader;

        public PipeWriter Output => output.Writer;
    }

    [Fact]
    public void Observe_WithoutByteCounting_KeepsTheTransportsWriterAndAllocatesNoMore()
    {
        var transport = new Transport(new Pipe(), new Pipe());

        var observed = new DownstreamConnection().Observe(transport);
        var plain = Allocations.Measure(() => new DownstreamConnection().Observe(transport));
        var counted = Allocations.Measure(() => new DownstreamConnection(countBytes: true).Observe(transport));

        // No listener access log: the writer is Kestrel's own, and the counters are not even allocated.
        Assert.Same(transport.Output, observed.Output);
        Assert.True(plain < counted, $"{plain} < {counted}");
    }

    [Fact]
    public async Task Observe_WithByteCounting_CountsEveryByteReadOnceAndEveryByteWritten()
    {
        var input = new Pipe();
        var output = new Pipe();
        var connection = new DownstreamConnection(countBytes: true);
        var observed = connection.Observe(new Transport(input, output));

        await input.Writer.WriteAsync(new byte[10]);
        var first = await observed.Input.ReadAsync();
        // Kestrel consumes part of it: the rest comes again with the next read and must not count twice.
        observed.Input.AdvanceTo(first.Buffer.GetPosition(4), first.Buffer.End);
        await input.Writer.WriteAsync(new byte[5]);
        var second = await observed.Input.ReadAsync();
        observed.Input.AdvanceTo(second.Buffer.End);
        await observed.Output.WriteAsync(new byte[7]);
        observed.Output.GetSpan(3)[..3].Clear();
        observed.Output.Advance(3);
        await observed.Output.FlushAsync();

        Assert.Equal(11, second.Buffer.Length);
        Assert.Equal(15, connection.BytesReceived);
        Assert.Equal(10, connection.BytesSent);
        Assert.Equal(0, new DownstreamConnection().BytesReceived);
    }
}
