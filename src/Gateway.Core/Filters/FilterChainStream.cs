using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gateway.Filters;

/// <summary>
/// One request going through a listener's filter chain (Envoy's FilterManager for one stream): decoders in order,
/// then the router, encoders in reverse order on the final response, completion. It is the
/// <see cref="HttpFilterContext"/> every filter of the request sees (one object per request, whatever the chain's
/// length), and an <see cref="HttpContext"/> feature so that local replies and the router's response find it.
/// </summary>
internal sealed partial class FilterChainStream : HttpFilterContext
{
    /// <summary>Envoy's default buffer limit (per_connection_buffer_limit_bytes, 1 MiB) for a body a filter buffers (a listener may set its own).</summary>
    public const int BufferLimit = Translation.ConnectionManagerPlan.DefaultBufferLimit;

    private static readonly byte[] PayloadTooLarge = Encoding.ASCII.GetBytes("Payload Too Large");
    private static readonly byte[] InternalServerError = Encoding.ASCII.GetBytes("Internal Server Error");

    private readonly HttpContext _context;
    private readonly ListenerRuntime _listener;
    private readonly HttpFilterChain _chain;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _scheme;
    private string _pathAndQuery;
    private readonly RouteRuntime? _initialRoute;
    private RouteRuntime? _route;
    private bool _routeCleared;
    private int _current;
    private int _passed;
    private bool _decoding = true;
    private bool _encoded;
    private bool _completed;
    private PendingReply? _pendingReply;
    private readonly RequestStreamInfo _streamInfo;
    private int _requestBufferLimit;
    private bool[]? _skipsBody;
    private ReadOnlyMemory<byte> _requestBody;
    private ReadOnlyMemory<byte> _responseBody;
    private BufferingResponseBody? _bufferedResponse;
    private bool _responseBodyEncoded;
    private bool _bodyBuffered;

    public FilterChainStream(HttpContext context, RequestStreamInfo streamInfo, ListenerRuntime listener, RouteRuntime? route, string scheme, string pathAndQuery, long startTimestamp, bool isInternal, TimeProvider time, ILogger logger)
    {
        _context = context;
        _streamInfo = streamInfo;
        _listener = listener;
        _chain = listener.Filters;
        _requestBufferLimit = listener.ConnectionManager.BufferLimit;
        _initialRoute = route;
        _route = route;
        _scheme = scheme;
        _pathAndQuery = pathAndQuery;
        StartTimestamp = startTimestamp;
        IsInternal = isInternal;
        _time = time;
        _logger = logger;
    }

    public long StartTimestamp { get; }

    public bool IsInternal { get; }

    public ListenerRuntime Listener => _listener;

    public string Scheme => _scheme;

    /// <summary>Envoy's <c>:path</c> as routed and forwarded; a filter may change it (<see cref="SetPathAndQuery"/>).</summary>
    public string PathAndQuery => _pathAndQuery;

    /// <summary>
    /// A filter replaces the request's <c>:path</c> (Envoy's <c>headers.setPath</c>): the router forwards it; the route
    /// stays the one matched unless the filter also clears the route cache, as in Envoy.
    /// </summary>
    internal void SetPathAndQuery(string pathAndQuery) => _pathAndQuery = pathAndQuery;

    /// <summary>The request was an upgrade or CONNECT (a local reply to it closes the connection).</summary>
    public bool Tunnel { get; init; }

    public override HttpContext HttpContext => _context;

    public override IHttpRoute? Route => CurrentRoute;

    /// <summary>The route in force: matched again on the current headers after a filter cleared the cache.</summary>
    public RouteRuntime? CurrentRoute
    {
        get
        {
            if (_routeCleared)
            {
                _routeCleared = false;
                var request = _context.Request;
                var host = request.Headers.Host;
                // Matched again with the dynamic metadata the filters set (Envoy's dynamic_metadata route matches).
                _route = _listener.Routes.Match(host.Count == 0 ? null : host.ToString(), request.Method, _scheme, _pathAndQuery, request.Headers, StreamInfo.AllDynamicMetadata, _streamInfo.RandomValue, out _, out _)
                    ?.Resolve(request, _streamInfo.RandomValue, _streamInfo.ForwardedRemoteAddress);
            }
            return _route;
        }
    }

    public override void ClearRouteCache() => _routeCleared = true;

    public override T? RouteConfig<T>() where T : class
        => CurrentRoute?.FilterStates is { } states ? states[_current].Config as T : null;

    /// <summary>True when a filter marked the request as a health check (its stats are then not charged).</summary>
    public bool IsHealthCheck => _streamInfo.IsHealthCheck;

    public override HttpStreamInfo StreamInfo => _streamInfo;

    public override TimeProvider TimeProvider => _time;

    public override ReadOnlyMemory<byte> RequestBody
    {
        get => _requestBody;
        set => _requestBody = value;
    }

    public override long RequestBufferLimit
    {
        get => _requestBufferLimit;
        // An array holds at most Array.MaxLength bytes; a larger limit (max_request_bytes is a uint32) is that.
        set => _requestBufferLimit = (int)Math.Clamp(value, 0, Array.MaxLength);
    }

    public override ReadOnlyMemory<byte> ResponseBody
    {
        get => _responseBody;
        set => _responseBody = value;
    }

    /// <summary>True when some filter has an encoder hook (the router and local replies call in only then).</summary>
    public bool HasEncoders => (_chain.Hooks & (HttpFilterHooks.ResponseHeaders | HttpFilterHooks.ResponseBody)) != 0;

    public override FilterStatus SendLocalReply(int statusCode, string? body, string details, Action<IHeaderDictionary>? modifyHeaders = null, int? grpcStatus = null)
    {
        if (!_decoding)
        {
            throw new InvalidOperationException("A filter can send a local reply only while the request is decoded (request headers or body).");
        }
        _pendingReply = new PendingReply(statusCode, body is null ? null : Encoding.UTF8.GetBytes(body), modifyHeaders, grpcStatus);
        _streamInfo.Details = details;
        return FilterStatus.StopIteration;
    }

    public override void SkipRequestBody()
    {
        if (!_decoding)
        {
            throw new InvalidOperationException("A filter can skip the request body only in its request-headers hook.");
        }
        // Allocated only when a filter skips (a per-route pass-through), rarely.
        (_skipsBody ??= new bool[_chain.Filters.Length])[_current] = true;
    }

    private bool SkipsBody(int index) => _skipsBody is { } skips && skips[index];

    /// <summary>Whether filter <paramref name="index"/> runs for this request: its default, unless the route (as matched first) says otherwise.</summary>
    private bool IsActive(int index)
    {
        var states = _initialRoute?.FilterStates;
        return !(states is null ? _chain.Filters[index].DisabledByDefault : states[index].Disabled ?? _chain.Filters[index].DisabledByDefault);
    }

    /// <summary>
    /// Runs the decoders: request headers in order, then (when a filter asks for it) the buffered request body.
    /// True when the request goes on to the router; false when a filter answered it (the reply has been sent).
    /// </summary>
    public ValueTask<bool> DecodeAsync() => DecodeFromAsync(0);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DecodeFromAsync(int start)
    {
        var filters = _chain.Filters;
        try
        {
            for (var i = start; i < filters.Length; i++)
            {
                if (!IsActive(i))
                {
                    continue;
                }
                _passed = i + 1;
                var hooks = filters[i].Hooks;
                if ((hooks & HttpFilterHooks.RequestHeaders) != 0)
                {
                    _current = i;
                    var status = await filters[i].Filter.OnRequestHeadersAsync(this).ConfigureAwait(false);
                    // A wrapping filter (the middleware adapter) ran later filters inside its hook: it is current again.
                    _current = i;
                    if (status == FilterStatus.StopIteration)
                    {
                        await StoppedAsync().ConfigureAwait(false);
                        return false;
                    }
                }
            }
            if (HasActiveRequestBodyFilter())
            {
                if (!await BufferRequestBodyAsync().ConfigureAwait(false))
                {
                    return false;
                }
                for (var i = 0; i < _passed; i++)
                {
                    if ((filters[i].Hooks & HttpFilterHooks.RequestBody) == 0 || !IsActive(i) || SkipsBody(i))
                    {
                        continue;
                    }
                    _current = i;
                    if (await filters[i].Filter.OnRequestBodyAsync(this).ConfigureAwait(false) == FilterStatus.StopIteration)
                    {
                        await StoppedAsync().ConfigureAwait(false);
                        return false;
                    }
                }
                SetRequestBody();
            }
        }
        catch (OperationCanceledException) when (_context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (while its body was read, or in a filter's wait): nobody to answer.
            return false;
        }
        catch (BadHttpRequestException)
        {
            // Kestrel refused the body's framing while it was buffered: Envoy's codec error, a 400 that closes the
            // connection (KestrelBadRequestObserver counts the protocol error).
            _listener.Stats.DownstreamRqResponseBeforeRqComplete.Increment();
            await LocalReply.SendAsync(_context, StatusCodes.Status400BadRequest, LocalReply.BadRequest, _listener.ConnectionManager, closeConnection: true).ConfigureAwait(false);
            return false;
        }
        catch (Exception ex)
        {
            Log.FilterFailed(_logger, filters[_current].Name, ex);
            _pendingReply = new PendingReply(StatusCodes.Status500InternalServerError, InternalServerError, null, null);
            await StoppedAsync().ConfigureAwait(false);
            return false;
        }
        finally
        {
            _decoding = false;
        }
        return true;
    }

    /// <summary>Whether a filter the request passed asks for the request body (so it is buffered once, after every headers hook).</summary>
    private bool HasActiveRequestBodyFilter()
    {
        if ((_chain.Hooks & HttpFilterHooks.RequestBody) == 0 || _bodyBuffered)
        {
            return false;
        }
        for (var i = 0; i < _passed; i++)
        {
            if ((_chain.Filters[i].Hooks & HttpFilterHooks.RequestBody) != 0 && IsActive(i) && !SkipsBody(i))
            {
                _bodyBuffered = true;
                return true;
            }
        }
        return false;
    }

    /// <summary>Runs the router once the decoders let the request through; the connection manager sets it.</summary>
    internal IFilterChainTerminal? Terminal { get; set; }

    /// <summary>True once the rest of the chain ran inside a filter's hook (<see cref="RunRestAsync"/>).</summary>
    private bool _restRan;
    private int _restFrom;

    /// <summary>
    /// Runs the filters after the current one, then the router and the response, inside the current filter's hook:
    /// how an ASP.NET middleware's <c>next</c> (<see cref="Middleware.MiddlewareFilter"/>) wraps the rest of the request,
    /// so that middleware working on the response (output caching) sees the upstream's. The hook then returns
    /// <see cref="FilterStatus.StopIteration"/>: everything has been done.
    /// </summary>
    internal async Task RunRestAsync()
    {
        // Wrapping filters nest (each runs the rest from after itself); a filter running it twice is a bug.
        var from = _current + 1;
        if (from <= _restFrom)
        {
            throw new InvalidOperationException("The rest of the filter chain has already run for this request.");
        }
        _restFrom = from;
        _restRan = true;
        _pendingReply = null;
        if (await DecodeFromAsync(from).ConfigureAwait(false))
        {
            await Terminal!.RunAsync(this).ConfigureAwait(false);
            await FinishResponseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A decoder stopped the chain: its local reply goes out (through the encoders that ran), or it wrote the response itself.</summary>
    private Task StoppedAsync()
    {
        _decoding = false;
        if (_restRan && _current < _restFrom)
        {
            // A wrapping filter that ran the rest of the request inside its hook: the response has been dealt with.
            // (A filter inside the wrapped part that stops sends its reply as usual.)
            return Task.CompletedTask;
        }
        if (_pendingReply is { } reply)
        {
            _pendingReply = null;
            return LocalReply.SendAsync(_context, reply.Status, reply.Body, _listener.ConnectionManager, modifyHeaders: reply.ModifyHeaders, grpcStatus: reply.GrpcStatus);
        }
        // The filter produced the response itself (e.g. an ASP.NET middleware): if it has not started, the encoders
        // see it, then the connection manager's headers (server, request id) go on it, as on a proxied response.
        if (_context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }
        if (!HasEncoders)
        {
            ConnectionManager.ApplyResponseHeaders(_context, _listener.ConnectionManager);
            return Task.CompletedTask;
        }
        return EncodeAnsweredAsync();
    }

    private async Task EncodeAnsweredAsync()
    {
        await EncodeHeadersAsync().ConfigureAwait(false);
        ConnectionManager.ApplyResponseHeaders(_context, _listener.ConnectionManager);
    }

    /// <summary>Reads the whole request body into memory, within the buffer limit (413 <c>Payload Too Large</c> beyond it; see <see cref="RequestBufferLimit"/>).</summary>
    private async ValueTask<bool> BufferRequestBodyAsync()
    {
        var request = _context.Request;
        if (_context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            _requestBody = ReadOnlyMemory<byte>.Empty;
            return true;
        }
        var limit = RequestBufferLimit;
        if (request.ContentLength > limit)
        {
            return await TooLargeAsync().ConfigureAwait(false);
        }
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is { } length ? (int)Math.Max(1, length) : 4096);
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(_context.RequestAborted).ConfigureAwait(false);
            var data = result.Buffer;
            if (buffer.WrittenCount + data.Length > limit)
            {
                reader.AdvanceTo(data.End);
                return await TooLargeAsync().ConfigureAwait(false);
            }
            foreach (var segment in data)
            {
                buffer.Write(segment.Span);
            }
            reader.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                break;
            }
        }
        _requestBody = buffer.WrittenMemory;
        return true;
    }

    private async ValueTask<bool> TooLargeAsync()
    {
        _listener.Stats.DownstreamRqTooLarge.Increment();
        _streamInfo.Details = "request_payload_too_large";
        _decoding = false;
        await LocalReply.SendAsync(_context, StatusCodes.Status413PayloadTooLarge, PayloadTooLarge, _listener.ConnectionManager).ConfigureAwait(false);
        return false;
    }

    /// <summary>The upstream (and a retry) reads the filtered body, with a content-length to match (as Envoy's buffering sets it).</summary>
    private void SetRequestBody()
    {
        var request = _context.Request;
        var body = _requestBody;
        request.Body = body.Length == 0 ? Stream.Null : new MemoryStream(AsArray(body, out var offset), offset, body.Length, writable: false, publiclyVisible: true);
        if (_context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
        {
            request.Headers.Remove(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding);
            request.ContentLength = body.Length;
        }
    }

    private static byte[] AsArray(ReadOnlyMemory<byte> memory, out int offset)
    {
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment) && segment.Array is not null)
        {
            offset = segment.Offset;
            return segment.Array;
        }
        offset = 0;
        return memory.ToArray();
    }

    /// <summary>
    /// Runs the encoders' response-headers hooks, once, in reverse order, for the filters the request passed: on the
    /// final proxied response (after the retry decision, before the headers are sent) or on a local reply.
    /// When a filter asks for the response body, the proxied body is buffered (see <see cref="FinishResponseAsync"/>).
    /// </summary>
    public ValueTask EncodeHeadersAsync(bool proxied = false)
    {
        if (_encoded || !HasEncoders)
        {
            return default;
        }
        _encoded = true;
        return RunEncodersAsync(proxied);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunEncodersAsync(bool proxied)
    {
        var filters = _chain.Filters;
        var bodyFilters = false;
        for (var i = _passed - 1; i >= 0; i--)
        {
            var hooks = filters[i].Hooks;
            if ((hooks & (HttpFilterHooks.ResponseHeaders | HttpFilterHooks.ResponseBody)) == 0 || !IsActive(i))
            {
                continue;
            }
            bodyFilters |= (hooks & HttpFilterHooks.ResponseBody) != 0;
            if ((hooks & HttpFilterHooks.ResponseHeaders) == 0)
            {
                continue;
            }
            _current = i;
            if (await filters[i].Filter.OnResponseHeadersAsync(this).ConfigureAwait(false) == FilterStatus.StopIteration)
            {
                break;
            }
        }
        if (bodyFilters && proxied)
        {
            _bufferedResponse = new BufferingResponseBody(_context, _listener.ConnectionManager.BufferLimit);
        }
    }

    /// <summary>A local reply's body through the encoders that asked for it; returns the body to send.</summary>
    public async ValueTask<byte[]?> EncodeLocalReplyBodyAsync(byte[]? body)
    {
        if (_responseBodyEncoded || !HasBodyEncoders())
        {
            return body;
        }
        _responseBody = body;
        await RunResponseBodyHooksAsync().ConfigureAwait(false);
        return _responseBody.Length == 0 ? null : AsExactArray(_responseBody);
    }

    private bool HasBodyEncoders()
    {
        if ((_chain.Hooks & HttpFilterHooks.ResponseBody) == 0)
        {
            return false;
        }
        for (var i = _passed - 1; i >= 0; i--)
        {
            if ((_chain.Filters[i].Hooks & HttpFilterHooks.ResponseBody) != 0 && IsActive(i))
            {
                return true;
            }
        }
        return false;
    }

    private async ValueTask RunResponseBodyHooksAsync()
    {
        var filters = _chain.Filters;
        for (var i = _passed - 1; i >= 0; i--)
        {
            if ((filters[i].Hooks & HttpFilterHooks.ResponseBody) == 0 || !IsActive(i))
            {
                continue;
            }
            _current = i;
            if (await filters[i].Filter.OnResponseBodyAsync(this).ConfigureAwait(false) == FilterStatus.StopIteration)
            {
                break;
            }
        }
    }

    private static byte[] AsExactArray(ReadOnlyMemory<byte> memory)
        => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : memory.ToArray();

    /// <summary>
    /// After the router: a proxied body that was buffered for the encoders goes through their body hooks and then to
    /// the client (500 <c>rs_too_large</c> when it was over the buffer limit: nothing had been sent yet).
    /// </summary>
    public async Task FinishResponseAsync()
    {
        if (_bufferedResponse is not { } buffered)
        {
            return;
        }
        _bufferedResponse = null;
        buffered.Detach();
        if (buffered.Overflowed)
        {
            // The encoders already had their turn at this response: the 500 that replaces it goes out as it is.
            _responseBodyEncoded = true;
            _listener.Stats.RsTooLarge.Increment();
            _streamInfo.Details = "response_payload_too_large";
            await LocalReply.SendAsync(_context, StatusCodes.Status500InternalServerError, InternalServerError, _listener.ConnectionManager).ConfigureAwait(false);
            return;
        }
        if (_context.Features.Get<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>() is { Error: not Yarp.ReverseProxy.Forwarder.ForwarderError.None })
        {
            // The upstream failed mid-body: nothing went to the client; the router's own reply (if any) follows.
            return;
        }
        _responseBody = buffered.Body;
        await RunResponseBodyHooksAsync().ConfigureAwait(false);
        var response = _context.Response;
        response.Headers.Remove(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding);
        response.ContentLength = _responseBody.Length;
        await response.Body.WriteAsync(_responseBody, _context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The stream is over: each filter the request passed hears of it, in order.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        _completed = true;
        _bufferedResponse?.Detach();
        var filters = _chain.Filters;
        for (var i = 0; i < _passed; i++)
        {
            if ((filters[i].Hooks & HttpFilterHooks.Complete) == 0 || !IsActive(i))
            {
                continue;
            }
            _current = i;
            try
            {
                filters[i].Filter.OnComplete(this);
            }
            catch (Exception ex)
            {
                Log.FilterFailed(_logger, filters[i].Name, ex);
            }
        }
    }

    /// <summary>Where the chain goes when the decoders let a request through: the router.</summary>
    internal interface IFilterChainTerminal
    {
        Task RunAsync(FilterChainStream stream);
    }

    private sealed record PendingReply(int Status, byte[]? Body, Action<IHeaderDictionary>? ModifyHeaders, int? GrpcStatus);

    /// <summary>Holds a proxied response body for the encoders: nothing reaches the client (headers included) until it is complete.</summary>
    private sealed class BufferingResponseBody : ResponseBodyStream
    {
        private readonly HttpContext _context;
        private readonly IHttpResponseBodyFeature _inner;
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private readonly int _limit;

        public BufferingResponseBody(HttpContext context, int limit)
        {
            _context = context;
            _limit = limit;
            _inner = context.Features.Get<IHttpResponseBodyFeature>()!;
            context.Features.Set<IHttpResponseBodyFeature>(this);
        }

        public bool Overflowed { get; private set; }

        public ReadOnlyMemory<byte> Body => _buffer.WrittenMemory;

        public void Detach()
        {
            if (ReferenceEquals(_context.Features.Get<IHttpResponseBodyFeature>(), this))
            {
                _context.Features.Set(_inner);
            }
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Overflowed || _buffer.WrittenCount + buffer.Length > _limit)
            {
                // Envoy stops buffering and answers 500; the rest of the upstream body is dropped.
                Overflowed = true;
                return;
            }
            _buffer.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return default;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEvents.FilterFailed, Level = LogLevel.Error, Message = "HTTP filter '{Filter}' failed; the request is answered 500")]
        public static partial void FilterFailed(ILogger logger, string filter, Exception exception);
    }
}
