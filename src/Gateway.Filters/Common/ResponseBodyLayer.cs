using System.Buffers;
using System.IO.Pipelines;
using Gateway.IO;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Filters.Common;

/// <summary>
/// A filter's transform of the response body as it streams (Envoy's encodeData on each chunk), installed as the response
/// body feature in the filter's response-headers hook. Layers of several filters stack in encoder order: a layer
/// installed later belongs to a filter nearer the client, so it goes under the ones already installed and sees their
/// output. The end of the body (a gzip trailer, gRPC-Web's trailer frame, a held body) is written synchronously when the
/// stream completes (<see cref="FinishAll"/>, which is what a filter's <c>OnComplete</c> can do), and the server's feature is restored.
/// </summary>
internal abstract class ResponseBodyLayer : WriteOnlyForwardStream, IHttpResponseBodyFeature
{
    private IHttpResponseBodyFeature _inner = null!;
    private PipeWriter? _writer;
    private bool _finished;
    private bool _started;
    private bool _bypass;
    private bool _ended;

    // A local reply after a proxy failure comes through the encoders afresh: only a failure after install counts.
    private bool _proxyFailedAtInstall;

    protected ResponseBodyLayer(HttpContext context)
    {
        Context = context;
    }

    protected HttpContext Context { get; }

    /// <summary>Whether the layer changes the body's length (then a <c>content-length</c> set after the encoders is dropped before the headers go).</summary>
    protected virtual bool ChangesLength => true;

    /// <summary>Whether the layer holds the response back (headers included): flushes and starts are not passed on until it writes.</summary>
    protected virtual bool HoldsResponse => false;

    /// <summary>Transforms one chunk written by the proxy (or a local reply); write the output with <see cref="WriteNextAsync"/>.</summary>
    protected abstract ValueTask TransformAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Transforms one chunk written synchronously (a layer above finishing); write the output with <see cref="WriteNextSync"/>.</summary>
    protected abstract void TransformSync(ReadOnlySpan<byte> data);

    /// <summary>The body is complete: write what is left with <see cref="WriteNextSync"/> (headers may still be changed when nothing was written).</summary>
    protected virtual void OnFinish()
    {
    }

    /// <summary>Releases what the layer holds (a codec); called once, finished or not.</summary>
    protected virtual void OnEnded()
    {
    }

    /// <summary>Puts <paramref name="layer"/> under the layers already installed (or on top of the server's feature).</summary>
    public static void Install(HttpContext context, ResponseBodyLayer layer)
    {
        layer._proxyFailedAtInstall = ProxyFailed(context);
        var features = context.Features;
        var top = features.Get<IHttpResponseBodyFeature>()!;
        if (top is ResponseBodyLayer outer)
        {
            while (outer._inner is ResponseBodyLayer next)
            {
                outer = next;
            }
            layer._inner = outer._inner;
            outer._inner = layer;
            return;
        }
        layer._inner = top;
        features.Set<IHttpResponseBodyFeature>(layer);
        context.Response.RegisterForDispose(layer);
    }

    /// <summary>
    /// The stream is over: every layer ends its output, the one nearest the upstream first (what it writes last still goes
    /// through the others), and the response body feature is the server's again. Idempotent: each filter with a layer calls it.
    /// </summary>
    public static void FinishAll(HttpContext context)
    {
        var features = context.Features;
        if (features.Get<IHttpResponseBodyFeature>() is not ResponseBodyLayer top)
        {
            return;
        }
        // No end of body after a failure: the client sees the stream reset, not a well-formed but short body.
        var aborted = context.RequestAborted.IsCancellationRequested;
        var proxyFailed = ProxyFailed(context);
        IHttpResponseBodyFeature current = top;
        while (current is ResponseBodyLayer layer)
        {
            if (!aborted && !(proxyFailed && !layer._proxyFailedAtInstall))
            {
                layer.Finish();
            }
            layer.End();
            current = layer._inner;
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
            _bypass = !_proxyFailedAtInstall && ProxyFailed(Context);
        }
        return _bypass;
    }

    private void Finish()
    {
        if (_finished || _bypass)
        {
            return;
        }
        _finished = true;
        OnFinish();
    }

    private void End()
    {
        if (!_ended)
        {
            _ended = true;
            OnEnded();
        }
    }

    /// <summary>Writes transformed output on towards the client.</summary>
    protected ValueTask WriteNextAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        PrepareHeaders();
        return _inner.Stream.WriteAsync(data, cancellationToken);
    }

    /// <summary>Synchronous write for the end of the body (completion cannot await): through the layers below, into the server's pipe, flushed when the response ends.</summary>
    protected void WriteNextSync(ReadOnlySpan<byte> data)
    {
        if (_inner is ResponseBodyLayer inner)
        {
            inner.ReceiveSync(data);
            return;
        }
        PrepareHeaders();
        _inner.Writer.Write(data);
    }

    private void ReceiveSync(ReadOnlySpan<byte> data)
    {
        if (Bypass())
        {
            WriteNextSync(data);
            return;
        }
        TransformSync(data);
    }

    /// <summary>The body's length changes: whoever set content-length after the encoders (a local reply, a buffered body) is overruled before the headers go.</summary>
    private void PrepareHeaders()
    {
        var response = Context.Response;
        if (ChangesLength && !response.HasStarted && response.ContentLength is not null)
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
        await TransformAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!_finished && !buffer.IsEmpty)
        {
            ReceiveSync(buffer);
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (HoldsResponse && !_bypass)
        {
            return Task.CompletedTask;
        }
        PrepareHeaders();
        return _inner.Stream.FlushAsync(cancellationToken);
    }

    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    void IHttpResponseBodyFeature.DisableBuffering() => _inner.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        if (HoldsResponse && !_bypass)
        {
            return Task.CompletedTask;
        }
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
            End();
        }
        base.Dispose(disposing);
    }
}
