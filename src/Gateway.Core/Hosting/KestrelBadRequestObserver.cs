using System.Diagnostics;
using Gateway.Listeners;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Hosting;

/// <summary>
/// Counts the requests Kestrel's codec refuses before any middleware runs (bad request line or headers,
/// headers too large, header timeout: 400/408/414/431), as Envoy counts its codec's local replies:
/// <c>downstream_rq_total</c>, <c>_completed</c>, <c>_4xx</c> and <c>downstream_cx_protocol_error</c>.
/// Kestrel reports them on its DiagnosticListener event <c>Microsoft.AspNetCore.Server.Kestrel.BadRequest</c>,
/// whose payload is the request's feature collection (connection features included), so only refused
/// requests pay.
/// </summary>
internal sealed class KestrelBadRequestObserver(ConnectionManagerStats admin) : IObserver<KeyValuePair<string, object?>>
{
    public const string EventName = "Microsoft.AspNetCore.Server.Kestrel.BadRequest";

    /// <summary>Subscribes to the host's DiagnosticListener, the one Kestrel writes to; null without one.</summary>
    public static IDisposable? Subscribe(DiagnosticListener? listener, ConnectionManagerStats admin)
        => listener?.Subscribe(new KestrelBadRequestObserver(admin), static name => name == EventName);

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key != EventName || value.Value is not IFeatureCollection features)
        {
            return;
        }
        // A listener connection carries its chain; the admin's carries only its slot.
        if ((features.Get<DownstreamConnection>()?.Chain?.Stats ?? (features.Get<ListenerSlot>()?.IsAdmin == true ? admin : null)) is not { } stats)
        {
            return;
        }
        var status = features.Get<IBadRequestExceptionFeature>()?.Error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;
        // A refusal of a request the connection manager already counted (routed, its body failed while being
        // forwarded; or answered, a bad chunk while draining the body) is only the codec error.
        if (features.Get<Router.UpstreamRequest>() is not null || features.Get<IHttpResponseFeature>()?.HasStarted == true)
        {
            stats.CodecErrorAfterRequest(status);
            return;
        }
        stats.CodecRejected(status, HttpProtocol.IsHttp2(features.Get<IHttpRequestFeature>()?.Protocol ?? string.Empty));
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }
}
