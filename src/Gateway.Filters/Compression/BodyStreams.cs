using System.Buffers;
using System.IO.Pipelines;
using Gateway.Filters.Common;
using Gateway.IO;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Filters.Compression;

/// <summary>
/// A response body compressed or decompressed as it streams (Envoy's encodeData on each chunk): a
/// <see cref="ResponseBodyLayer"/> whose chunks go through the codec and on to the client at once; the end of the
/// body (the gzip trailer) is written when the stream completes.
/// </summary>
internal sealed class TransformedResponseBody : ResponseBodyLayer
{
    private readonly BodyCodec _codec;
    private readonly ArrayBufferWriter<byte> _output;
    private readonly Counter _inputBytes;
    private readonly Counter _outputBytes;

    private TransformedResponseBody(HttpContext context, BodyCodec codec, int chunkSize, Counter inputBytes, Counter outputBytes)
        : base(context)
    {
        _codec = codec;
        _output = new ArrayBufferWriter<byte>(chunkSize);
        _inputBytes = inputBytes;
        _outputBytes = outputBytes;
    }

    /// <summary>Transforms the rest of the response through <paramref name="codec"/> (under the layers already installed).</summary>
    public static void Install(HttpContext context, BodyCodec codec, int chunkSize, Counter inputBytes, Counter outputBytes)
        => Install(context, new TransformedResponseBody(context, codec, chunkSize, inputBytes, outputBytes));

    protected override async ValueTask TransformAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _inputBytes.Add(data.Length);
        _codec.Write(data, _output);
        if (_output.WrittenCount == 0)
        {
            return;
        }
        _outputBytes.Add(_output.WrittenCount);
        await WriteNextAsync(_output.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _output.ResetWrittenCount();
    }

    protected override void TransformSync(ReadOnlySpan<byte> data)
    {
        _inputBytes.Add(data.Length);
        _codec.Write(data.ToArray(), _output);
        Flush(_output);
    }

    protected override void OnFinish()
    {
        _codec.Finish(_output);
        Flush(_output);
    }

    private void Flush(ArrayBufferWriter<byte> output)
    {
        if (output.WrittenCount > 0)
        {
            _outputBytes.Add(output.WrittenCount);
            WriteNextSync(output.WrittenSpan);
            output.ResetWrittenCount();
        }
    }

    protected override void OnEnded() => _codec.Dispose();
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
