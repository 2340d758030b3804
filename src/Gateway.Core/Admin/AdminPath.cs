using System.Text;

namespace Gateway.Admin;

/// <summary>
/// The path the admin API dispatches on. Envoy's admin connection manager has <c>normalize_path</c> and
/// <c>merge_slashes</c> on (admin.h), so its handlers see the request target's path after RFC 3986 normalization
/// (Chromium's canonicalizer in path_utility.cc: '\' is a '/', escaped unreserved characters are decoded, dot
/// segments, escaped or not, are removed) and with runs of '/' merged; every other escape (e.g. <c>%2F</c>) stays as
/// sent. This is computed from the raw request target, never from Kestrel's decoded <c>Request.Path</c>, which decodes
/// every escape and merges nothing.
/// </summary>
internal static class AdminPath
{
    /// <summary>Splits a raw request target into the normalized path and the raw query (without '?').</summary>
    public static (string Path, string Query) Split(string rawTarget)
    {
        var target = rawTarget;
        if (target.Length > 0 && target[0] != '/' && target.IndexOf("://", StringComparison.Ordinal) is var scheme and > 0)
        {
            // Absolute form: the codec keeps only the path and query as :path.
            var slash = target.IndexOf('/', scheme + 3);
            var question = target.IndexOf('?', scheme + 3);
            target = slash >= 0 && (question < 0 || slash < question) ? target[slash..] : "/" + (question >= 0 ? target[question..] : string.Empty);
        }
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? target : target[..queryStart];
        var query = queryStart < 0 ? string.Empty : target[(queryStart + 1)..];
        return (Normalize(path), query);
    }

    /// <summary>RFC 3986 normalization as Envoy's canonicalizer does it, then merged slashes.</summary>
    public static string Normalize(string path)
    {
        if (!path.StartsWith('/'))
        {
            // "*" (OPTIONS *) or garbage: nothing to normalize, and no endpoint will match it.
            return path;
        }
        // Decode escaped unreserved characters and turn '\' into '/'; other escapes are kept as written.
        var decoded = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '%' && i + 2 < path.Length && Uri.IsHexDigit(path[i + 1]) && Uri.IsHexDigit(path[i + 2]))
            {
                var value = (char)((Uri.FromHex(path[i + 1]) << 4) | Uri.FromHex(path[i + 2]));
                if (char.IsAsciiLetterOrDigit(value) || value is '-' or '.' or '_' or '~')
                {
                    decoded.Append(value);
                    i += 2;
                    continue;
                }
            }
            decoded.Append(c == '\\' ? '/' : c);
        }

        // Remove dot segments (RFC 3986 5.2.4); a ".." above the root stays at the root.
        var segments = new List<string>();
        var parts = decoded.ToString().Split('/');
        for (var i = 1; i < parts.Length; i++)
        {
            var segment = parts[i];
            var last = i == parts.Length - 1;
            if (segment is "." or "..")
            {
                if (segment == ".." && segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }
                if (last)
                {
                    segments.Add(string.Empty);
                }
                continue;
            }
            segments.Add(segment);
        }

        // Then merge slashes: empty segments go, except a trailing one.
        for (var i = segments.Count - 2; i >= 0; i--)
        {
            if (segments[i].Length == 0)
            {
                segments.RemoveAt(i);
            }
        }
        return "/" + string.Join('/', segments);
    }
}
