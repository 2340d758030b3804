using System.Buffers;
using System.IO.Pipelines;
using Gateway.Filters.Common;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Filters.Compression;

/// <summary>
/// A response body transformed as it streams (Envoy's encodeData on each chunk): installed as the response body
/// feature in a filter's response-headers hook, each write goes through the codec and on to the client at once;
/// the end of the body (the gzip trailer) is written when the stream completes, and the original feature is restored.
/// </summary>
internal sealed class TransformedResponseBody : WriteOnlyForwardStream, IHttpResponseBodyFeature
{
    private readonly HttpContext _context;
    private readonly BodyCodec _codec;
    private readonly ArrayBufferWriter<byte> _output;
    private readonly Counter _inputBytes;
    private readonly Counter _outputBytes;
    private IHttpResponseBodyFeature _inner = null!;
    private PipeWriter? _writer;
    private bool _finished;
    private bool _started;
    private bool _bypass;

    // A local reply after a proxy failure comes through the encoders afresh: only a failure after install counts.
    private bool _proxyFailedAtInstall;

    private TransformedResponseBody(HttpContext context, BodyCodec codec, int chunkSize, Counter inputBytes, Counter outputBytes)
    {
        _context = context;
        _codec = codec;
        _output = new ArrayBufferWriter<byte>(chunkSize);
        _inputBytes = inputBytes;
        _outputBytes = outputBytes;
    }

    /// <summary>
    /// Transforms the rest of the response. Encoders run in reverse order, so a transform installed later belongs to a
    /// filter nearer the client: it goes under the ones already installed, and sees their output.
    /// </summary>
    public static void Install(HttpContext context, BodyCodec codec, int chunkSize, Counter inputBytes, Counter outputBytes)
    {
        var body = new TransformedResponseBody(context, codec, chunkSize, inputBytes, outputBytes) { _proxyFailedAtInstall = ProxyFailed(context) };
        var features = context.Features;
        var top = features.Get<IHttpResponseBodyFeature>()!;
        if (top is TransformedResponseBody outer)
        {
            while (outer._inner is TransformedResponseBody next)
            {
                outer = next;
            }
            body._inner = outer._inner;
            outer._inner = body;
            return;
        }
        body._inner = top;
        features.Set<IHttpResponseBodyFeature>(body);
        context.Response.RegisterForDispose(body);
    }

    /// <summary>
    /// The stream is over: every transform ends its output, the one nearest the upstream first (what it writes last
    /// still goes through the others), and the response body feature is the server's again. Idempotent.
    /// </summary>
    public static void FinishAll(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpResponseBodyFeature>() is not TransformedResponseBody top)
        {
            return;
        }
        // No end of body after a failure: the client sees the stream reset, not a well-formed but short body.
        var aborted = context.RequestAborted.IsCancellationRequested;
        var proxyFailed = ProxyFailed(context);
        IHttpResponseBodyFeature current = top;
        while (current is TransformedResponseBody body)
        {
            if (!aborted && !(proxyFailed && !body._proxyFailedAtInstall))
            {
                body.FinishSync();
            }
            body._codec.Dispose();
            current = body._inner;
        }
        features.Set(current);
    }

    private static bool ProxyFailed(HttpContext context)
        => context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>() is { Error: not Yarp.ReverseProxy.Forwarder.ForwarderError.None };

    /// <summary>
    /// Before the first byte: the proxy may have failed between the response headers and the body, cleared the response
    /// and left the gateway's own reply to be written (the encoders do not run twice); that reply goes through as it is.
    /// </summary>
    private bool Bypass()
    {
        if (!_started)
        {
            _started = true;
            _bypass = !_proxyFailedAtInstall && ProxyFailed(_context);
        }
        return _bypass;
    }

    private void FinishSync()
    {
        if (_finished || _bypass)
        {
            return;
        }
        _finished = true;
        _codec.Finish(_output);
        if (_output.WrittenCount > 0)
        {
            _outputBytes.Add(_output.WrittenCount);
            WriteInnerSync(_output.WrittenSpan);
            _output.ResetWrittenCount();
        }
    }

    /// <summary>Synchronous write for the end of the body (completion cannot await): into the server's pipe, flushed when the response ends.</summary>
    private void WriteInnerSync(ReadOnlySpan<byte> data)
    {
        if (_inner is TransformedResponseBody inner)
        {
            inner.TransformSync(data);
            return;
        }
        PrepareHeaders();
        _inner.Writer.Write(data);
    }

    private void TransformSync(ReadOnlySpan<byte> data)
    {
        if (Bypass())
        {
            WriteInnerSync(data);
            return;
        }
        _inputBytes.Add(data.Length);
        _codec.Write(data.ToArray(), _output);
        if (_output.WrittenCount > 0)
        {
            _outputBytes.Add(_output.WrittenCount);
            WriteInnerSync(_output.WrittenSpan);
            _output.ResetWrittenCount();
        }
    }

    /// <summary>The body's length changes: whoever set content-length after the encoders (a local reply, a buffered body) is overruled before the headers go.</summary>
    private void PrepareHeaders()
    {
        var response = _context.Response;
        if (!response.HasStarted && response.ContentLength is not null)
        {
            response.ContentLength = null;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_finished || buffer.IsEmpty)
        {
            return;
        }
        if (Bypass())
        {
            await _inner.Stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }
        _inputBytes.Add(buffer.Length);
        _codec.Write(buffer, _output);
        if (_output.WrittenCount == 0)
        {
            return;
        }
        _outputBytes.Add(_output.WrittenCount);
        PrepareHeaders();
        await _inner.Stream.WriteAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _output.ResetWrittenCount();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!_finished && !buffer.IsEmpty)
        {
            TransformSync(buffer);
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        PrepareHeaders();
        return _inner.Stream.FlushAsync(cancellationToken);
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    void IHttpResponseBodyFeature.DisableBuffering() => _inner.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        PrepareHeaders();
        return _inner.StartAsync(cancellationToken);
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken)
        => SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    async Task IHttpResponseBodyFeature.CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _codec.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A request body transformed as the upstream reads it (Envoy's decodeData on each chunk).</summary>
internal sealed class TransformedRequestBody : ReadOnlyForwardStream
{
    private readonly Stream _inner;
    private readonly BodyCodec _codec;
    private readonly ArrayBufferWriter<byte> _output;
    private readonly byte[] _input;
    private readonly Counter _inputBytes;
    private readonly Counter _outputBytes;
    private int _offset;
    private bool _ended;

    private TransformedRequestBody(Stream inner, BodyCodec codec, int chunkSize, Counter inputBytes, Counter outputBytes)
    {
        _inner = inner;
        _codec = codec;
        _output = new ArrayBufferWriter<byte>(chunkSize);
        _input = new byte[chunkSize];
        _inputBytes = inputBytes;
        _outputBytes = outputBytes;
    }

    /// <summary>The request body from now on reads through <paramref name="codec"/>.</summary>
    public static void Install(HttpContext context, BodyCodec codec, int chunkSize, Counter inputBytes, Counter outputBytes)
    {
        var body = new TransformedRequestBody(context.Request.Body, codec, chunkSize, inputBytes, outputBytes);
        context.Request.Body = body;
        context.Response.RegisterForDispose(body);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_offset == _output.WrittenCount)
        {
            if (_ended)
            {
                return 0;
            }
            _output.ResetWrittenCount();
            _offset = 0;
            var read = await _inner.ReadAsync(_input, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _ended = true;
                _codec.Finish(_output);
            }
            else
            {
                _inputBytes.Add(read);
                _codec.Write(_input.AsMemory(0, read), _output);
            }
            _outputBytes.Add(_output.WrittenCount);
        }
        var n = Math.Min(buffer.Length, _output.WrittenCount - _offset);
        _output.WrittenMemory.Slice(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _codec.Dispose();
        }
        base.Dispose(disposing);
    }
}
