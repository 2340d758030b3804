using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Listeners;

/// <summary>
/// <c>http_protocol_options.header_key_format.proper_case_words</c> on an HTTP/1 response (Envoy's
/// ProperCaseHeaderKeyFormatter): as the headers go out, each name has its first letter and every letter after a
/// character that is neither a letter nor a digit upper-cased, the others lower-cased (<c>x-request-id</c> → <c>X-Request-Id</c>). Kestrel
/// writes the headers it knows in its own casing (<c>ETag</c>, <c>WWW-Authenticate</c>); see docs/compatibility.md.
/// </summary>
internal static class ProperCaseHeaderNames
{
    private static readonly Func<object, Task> Rename = static state =>
    {
        Apply(((HttpResponse)state).Headers);
        return Task.CompletedTask;
    };

    /// <summary>Renames <paramref name="response"/>'s header names when it starts (only connection managers that ask pay for it).</summary>
    public static void Install(HttpResponse response) => response.OnStarting(Rename, response);

    /// <summary>Renames every header whose name is not in Proper-Case already.</summary>
    public static void Apply(IHeaderDictionary headers)
    {
        List<KeyValuePair<string, StringValues>>? renamed = null;
        foreach (var header in headers)
        {
            if (!IsProperCase(header.Key))
            {
                (renamed ??= []).Add(header);
            }
        }
        if (renamed is null)
        {
            return;
        }
        foreach (var (name, values) in renamed)
        {
            // The dictionary ignores case: the old spelling goes first, then the value is set under the new one.
            headers.Remove(name);
            headers[Format(name)] = values;
        }
    }

    /// <summary>Envoy's ProperCaseHeaderKeyFormatter::format over its lower-cased header map (so other letters end lower-case).</summary>
    public static string Format(string name)
        => string.Create(name.Length, name, static (chars, source) =>
        {
            var capitalize = true;
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                chars[i] = char.IsAsciiLetter(c) ? (capitalize ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)) : c;
                capitalize = !char.IsAsciiLetterOrDigit(c);
            }
        });

    private static bool IsProperCase(string name)
    {
        var capitalize = true;
        foreach (var c in name)
        {
            if (capitalize ? char.IsAsciiLetterLower(c) : char.IsAsciiLetterUpper(c))
            {
                return false;
            }
            capitalize = !char.IsAsciiLetterOrDigit(c);
        }
        return true;
    }
}
