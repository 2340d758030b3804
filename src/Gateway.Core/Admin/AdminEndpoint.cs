using System.Text;

namespace Gateway.Admin;

/// <summary>One admin path, as listed by <c>/help</c>: its help text, whether it mutates (POST only), its query parameters, and the callback.</summary>
internal sealed record AdminEndpoint(string Path, string Help, bool Mutates, IReadOnlyList<AdminParam> Params, Func<AdminRequest, AdminResponse> Handler)
{
    public AdminEndpoint(string path, string help, bool mutates, Func<AdminRequest, AdminResponse> handler)
        : this(path, help, mutates, [], handler)
    {
    }
}

/// <summary>A query parameter of an admin endpoint, listed under it by <c>/help</c> (Envoy's ParamDescriptor).</summary>
internal sealed record AdminParam(string Name, string Help, IReadOnlyList<string>? Choices = null);

/// <summary>An admin request: method, path and the query parameters.</summary>
internal sealed class AdminRequest
{
    public AdminRequest(string method, string path, string? query)
    {
        Method = method;
        Path = path;
        RawQuery = query is { Length: > 0 } && query[0] == '?' ? query[1..] : query ?? string.Empty;
        Query = Parse(RawQuery, decode: true);
        RawParams = Parse(RawQuery, decode: false);
    }

    public string Method { get; }

    public string Path { get; }

    /// <summary>The query string without its '?'.</summary>
    public string RawQuery { get; }

    /// <summary>The parameters, percent-decoded ('+' is a space), in order; a key without '=' has an empty value.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Query { get; }

    /// <summary>The parameters as written (Envoy's <c>/logging</c> does not decode them).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RawParams { get; }

    /// <summary>True when the parameter is present, with or without a value (<c>?usedonly</c>).</summary>
    public bool Has(string name) => Find(name) is not null;

    /// <summary>The first value of the parameter, or null when it is absent.</summary>
    public string? Find(string name)
    {
        foreach (var (key, value) in Query)
        {
            if (key == name)
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>The first value when present and not empty (Envoy's <c>Utility::queryParam</c>).</summary>
    public string? Value(string name) => Find(name) is { Length: > 0 } value ? value : null;

    private static List<KeyValuePair<string, string>> Parse(string query, bool decode)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0)
            {
                continue;
            }
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? string.Empty : part[(equals + 1)..];
            result.Add(decode ? new(Decode(key), Decode(value)) : new(key, value));
        }
        return result;
    }

    private static string Decode(string text)
    {
        if (text.IndexOf('%', StringComparison.Ordinal) < 0 && text.IndexOf('+', StringComparison.Ordinal) < 0)
        {
            return text;
        }
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                bytes.Add((byte)((Uri.FromHex(text[i + 1]) << 4) | Uri.FromHex(text[i + 2])));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}

/// <summary>What an admin endpoint answers. <see cref="AfterResponse"/> runs once the response has been sent (e.g. <c>/quitquitquit</c>).</summary>
internal sealed record AdminResponse(int StatusCode, string Body, string ContentType = AdminResponse.TextContentType)
{
    /// <summary>Envoy's default admin content type.</summary>
    public const string TextContentType = "text/plain; charset=UTF-8";

    /// <summary>The JSON handlers' content type.</summary>
    public const string JsonContentType = "application/json";

    /// <summary>The home page's content type.</summary>
    public const string HtmlContentType = "text/html; charset=UTF-8";

    public Action? AfterResponse { get; init; }

    public static AdminResponse Ok(string body) => new(200, body);

    public static AdminResponse Json(string body) => new(200, body, JsonContentType);

    public static AdminResponse BadRequest(string body) => new(400, body);
}
