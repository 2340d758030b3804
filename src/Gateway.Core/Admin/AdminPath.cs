using Gateway.Configuration;
using Gateway.Listeners;

namespace Gateway.Admin;

/// <summary>
/// The path the admin API dispatches on. Envoy's admin connection manager has <c>normalize_path</c> and
/// <c>merge_slashes</c> on and keeps escaped slashes (admin.h), so its handlers see <c>:path</c> (from the raw request
/// target, <see cref="RequestTarget"/>) after RFC 3986 normalization and with runs of '/' merged: the
/// <see cref="PathNormalizer"/> the data listeners use with those settings. Never Kestrel's decoded
/// <c>Request.Path</c>, which decodes every escape and merges nothing.
/// </summary>
internal static class AdminPath
{
    private static readonly PathNormalizer Normalizer = new(normalizePath: true, mergeSlashes: true, PathWithEscapedSlashesAction.KeepUnchanged);

    /// <summary>Splits <c>:path</c> into the normalized path and the raw query (without '?').</summary>
    /// <returns>False when the connection manager would refuse the path (not starting with '/', or normalization fails).</returns>
    public static bool TrySplit(string pathAndQuery, out string path, out string query)
    {
        path = query = string.Empty;
        if (pathAndQuery.Length == 0 || pathAndQuery[0] != '/' || Normalizer.Normalize(pathAndQuery, out var normalized) != PathAction.Continue)
        {
            return false;
        }
        var queryStart = normalized.IndexOf('?', StringComparison.Ordinal);
        path = queryStart < 0 ? normalized : normalized[..queryStart];
        query = queryStart < 0 ? string.Empty : normalized[(queryStart + 1)..];
        return true;
    }
}
