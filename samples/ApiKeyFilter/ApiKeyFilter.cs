using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Gateway.Filters;
using Gateway.Stats;
using Microsoft.AspNetCore.Http;

namespace Acme.Gateway.ApiKey;

/// <summary>
/// Lets a request through when its key header holds one of the allowed keys (the route's, when its
/// <c>typed_per_filter_config</c> names others); else answers 401 with <c>www-authenticate: ApiKey</c>.
/// Immutable and shared by every request of the listener; nothing is allocated on the allowed path.
/// </summary>
internal sealed class ApiKeyFilter : IHttpFilter
{
    private readonly string _headerName;
    private readonly string[] _keys;
    private readonly Counter _allowed;
    private readonly Counter _denied;
    private readonly Action<IHeaderDictionary> _challenge;

    public ApiKeyFilter(string headerName, string[] keys, Counter allowed, Counter denied)
    {
        _headerName = headerName;
        _keys = keys;
        _allowed = allowed;
        _denied = denied;
        var challenge = $"ApiKey header=\"{headerName}\"";
        _challenge = headers => headers.WWWAuthenticate = challenge;
    }

    public HttpFilterHooks Hooks => HttpFilterHooks.RequestHeaders;

    public ValueTask<FilterStatus> OnRequestHeadersAsync(HttpFilterContext context)
    {
        var keys = _keys;
        if (context.RouteConfig<ApiKeyRoute>() is { } route)
        {
            if (route.Disabled)
            {
                return new(FilterStatus.Continue);
            }
            keys = route.Keys;
        }
        var presented = context.HttpContext.Request.Headers[_headerName];
        if (presented.Count == 0)
        {
            _denied.Increment();
            return new(context.SendLocalReply(StatusCodes.Status401Unauthorized, "API key missing", "api_key_missing", _challenge));
        }
        if (presented.Count > 1 || !IsAllowed(presented[0]!, keys))
        {
            _denied.Increment();
            return new(context.SendLocalReply(StatusCodes.Status401Unauthorized, "API key invalid", "api_key_invalid", _challenge));
        }
        _allowed.Increment();
        return new(FilterStatus.Continue);
    }

    /// <summary>Compares with every key, in time that does not depend on where a key differs (only on lengths).</summary>
    private static bool IsAllowed(string presented, string[] keys)
    {
        var found = false;
        foreach (var key in keys)
        {
            found |= CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(presented.AsSpan()), MemoryMarshal.AsBytes(key.AsSpan()));
        }
        return found;
    }
}
