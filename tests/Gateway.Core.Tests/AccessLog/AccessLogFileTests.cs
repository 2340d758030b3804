using System.Text;
using Gateway.AccessLog;
using Gateway.Stats;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.AccessLog;

public sealed class AccessLogFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("accesslog-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public async Task Write_BelowFlushSize_StaysInMemoryUntilTheTimer()
    {
        var store = new StatsStore();
        var time = new FakeTimeProvider();
        await using var manager = new AccessLogManager(store, time, TimeSpan.FromSeconds(10));
        var path = PathOf("a.log");
        var file = manager.GetOrOpen(AccessLogDestination.File(path));

        file.Write("line one\n");

        Assert.Equal(string.Empty, await File.ReadAllTextAsync(path));
        Assert.Equal(1, store.Counter("filesystem.write_buffered").Value);
        Assert.Equal(9, store.Gauge("filesystem.write_total_buffered").Value);

        time.Advance(TimeSpan.FromSeconds(10));
        await WaitForAsync(() => File.ReadAllText(path) == "line one\n");
        Assert.Equal(1, store.Counter("filesystem.flushed_by_timer").Value);
        await WaitForAsync(() => store.Counter("filesystem.write_completed").Value == 1);
        Assert.Equal(0, store.Gauge("filesystem.write_total_buffered").Value);
    }

    [Fact]
    public async Task Write_PastMinFlushSize_IsWrittenWithoutTheTimer()
    {
        var store = new StatsStore();
        await using var manager = new AccessLogManager(store, new FakeTimeProvider());
        var path = PathOf("big.log");
        var file = manager.GetOrOpen(AccessLogDestination.File(path));
        var line = new string('x', 1023) + "\n";

        for (var i = 0; i < 65; i++)
        {
            file.Write(line);
        }

        await WaitForAsync(() => new FileInfo(path).Length == 65 * 1024);
        Assert.Equal(0, store.Counter("filesystem.flushed_by_timer").Value);
    }

    [Fact]
    public async Task DisposeAsync_BufferedLines_AreWritten()
    {
        var store = new StatsStore();
        var path = PathOf("shutdown.log");
        var manager = new AccessLogManager(store, new FakeTimeProvider());
        manager.GetOrOpen(AccessLogDestination.File(path)).Write("é last\n");

        await manager.DisposeAsync();

        Assert.Equal("é last\n", await File.ReadAllTextAsync(path, Encoding.UTF8));
    }

    [Fact]
    public async Task Write_BuilderWithSurrogatePairAcrossChunks_IsEncodedWhole()
    {
        var store = new StatsStore();
        var path = PathOf("chunks.log");
        var manager = new AccessLogManager(store, new FakeTimeProvider());
        // Capacity 3 filled by "ab" and a high surrogate: the low surrogate starts the builder's second chunk.
        var line = new StringBuilder(3).Append("ab\uD83D").Append("\uDE00c\n");
        var chunks = 0;
        foreach (var unused in line.GetChunks())
        {
            chunks++;
        }
        Assert.True(chunks > 1);

        manager.GetOrOpen(AccessLogDestination.File(path)).Write(line);
        manager.GetOrOpen(AccessLogDestination.File(path)).Write(new StringBuilder("single chunk\n"));
        await manager.DisposeAsync();

        Assert.Equal("ab\U0001F600c\nsingle chunk\n", await File.ReadAllTextAsync(path, Encoding.UTF8));
    }

    [Fact]
    public async Task GetOrOpen_SamePathTwice_SharesOneFile()
    {
        await using var manager = new AccessLogManager(new StatsStore(), new FakeTimeProvider());
        var path = PathOf("shared.log");

        var first = manager.GetOrOpen(AccessLogDestination.File(path));
        var second = manager.GetOrOpen(AccessLogDestination.File(path));
        first.Write("1\n");
        second.Write("2\n");
        await manager.FlushAsync();

        Assert.Same(first, second);
        Assert.Equal("1\n2\n", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Reopen_AfterRename_NewLinesGoToANewFileAtThePath()
    {
        var store = new StatsStore();
        await using var manager = new AccessLogManager(store, new FakeTimeProvider());
        var path = PathOf("rotate.log");
        var file = manager.GetOrOpen(AccessLogDestination.File(path));
        file.Write("before\n");
        await manager.FlushAsync();
        File.Move(path, path + ".1");

        manager.Reopen();
        await WaitForAsync(() => File.Exists(path));
        file.Write("after\n");
        await manager.FlushAsync();

        Assert.Equal("before\n", await File.ReadAllTextAsync(path + ".1"));
        Assert.Equal("after\n", await File.ReadAllTextAsync(path));
        Assert.Equal(0, store.Counter("filesystem.reopen_failed").Value);
    }

    [Fact]
    public async Task Reopen_DirectoryGone_CountsReopenFailedAndWriteFailed()
    {
        var store = new StatsStore();
        await using var manager = new AccessLogManager(store, new FakeTimeProvider());
        var sub = Directory.CreateDirectory(PathOf("sub")).FullName;
        var path = Path.Combine(sub, "x.log");
        var file = manager.GetOrOpen(AccessLogDestination.File(path));
        File.Delete(path);
        Directory.Delete(sub);

        manager.Reopen();
        await WaitForAsync(() => store.Counter("filesystem.reopen_failed").Value == 1);
        file.Write("lost\n");
        await manager.FlushAsync();

        Assert.Equal(1, store.Counter("filesystem.write_failed").Value);
    }

    [Fact]
    public async Task GetOrOpen_MissingDirectory_Throws()
    {
        await using var manager = new AccessLogManager(new StatsStore(), new FakeTimeProvider());

        Assert.ThrowsAny<IOException>(() => manager.GetOrOpen(AccessLogDestination.File(PathOf("missing/x.log"))));
    }

    [Fact]
    public async Task Write_OverTheMemoryBound_DropsTheLineAndCountsWriteFailed()
    {
        var store = new StatsStore();
        var blocked = new BlockingStream();
        await using var manager = new AccessLogManager(store, new FakeTimeProvider(), opener: _ => blocked) { MaxBufferedBytes = 8 * 1024 };
        var file = manager.GetOrOpen(AccessLogDestination.File("slow"));

        for (var i = 0; i < 20; i++)
        {
            file.Write(new string('y', 1000));
        }

        Assert.True(store.Counter("filesystem.write_failed").Value > 0);
        Assert.True(store.Gauge("filesystem.write_total_buffered").Value <= 8 * 1024);
        blocked.Release();
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }

    /// <summary>A destination whose writes wait until released (a slow disk).</summary>
    private sealed class BlockingStream : MemoryStream
    {
        private readonly ManualResetEventSlim _gate = new();

        public void Release() => _gate.Set();

        public override void Write(byte[] buffer, int offset, int count)
        {
            _gate.Wait(TimeSpan.FromSeconds(5));
            base.Write(buffer, offset, count);
        }
    }
}
