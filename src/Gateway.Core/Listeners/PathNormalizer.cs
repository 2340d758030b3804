using System.Buffers;
using System.Text;
using Gateway.Configuration;
using Gateway.Translation;

namespace Gateway.Listeners;

/// <summary>What the connection manager does after looking at the path (Envoy's <c>NormalizePathAction</c>).</summary>
internal enum PathAction
{
    /// <summary>Route and forward the (possibly normalized) path.</summary>
    Continue,

    /// <summary>Answer 400 (<c>downstream_rq_failed_path_normalization</c>).</summary>
    Reject,

    /// <summary>Answer 307 with the normalized path as <c>location</c> (<c>downstream_rq_redirected_with_normalized_path</c>).</summary>
    Redirect,
}

/// <summary>
/// Envoy's path sanitation for one connection manager (<c>ConnectionManagerUtility::maybeNormalizePath</c> with
/// <c>PathUtil</c>, source/common/http/path_utility.cc): a <c>#</c> anywhere in <c>:path</c> is refused
/// (runtime <c>http_reject_path_with_fragment</c>, on by default); then, as configured, escaped slashes are acted on,
/// the path is normalized as RFC 3986 (Chromium's URL path canonicalizer, which Envoy uses) and adjacent slashes are
/// merged. The query is never touched. The result is what the router matches and what the upstream receives.
/// A path that needs no change comes back as the same string instance, without allocating.
/// </summary>
internal sealed class PathNormalizer
{
    /// <summary>Envoy's defaults: no normalization, escaped slashes kept.</summary>
    public static readonly PathNormalizer Default = new(false, false, PathWithEscapedSlashesAction.KeepUnchanged);

    private readonly bool _normalize;
    private readonly bool _mergeSlashes;
    private readonly PathWithEscapedSlashesAction _escapedSlashes;

    public PathNormalizer(bool normalizePath, bool mergeSlashes, PathWithEscapedSlashesAction escapedSlashes)
    {
        _normalize = normalizePath;
        _mergeSlashes = mergeSlashes;
        _escapedSlashes = escapedSlashes == PathWithEscapedSlashesAction.ImplementationSpecificDefault
            ? PathWithEscapedSlashesAction.KeepUnchanged
            : escapedSlashes;
    }

    /// <summary>The normalizer a connection manager plan asks for.</summary>
    public static PathNormalizer For(ConnectionManagerPlan plan)
        => !plan.NormalizePath && !plan.MergeSlashes && plan.PathWithEscapedSlashesAction is PathWithEscapedSlashesAction.KeepUnchanged or PathWithEscapedSlashesAction.ImplementationSpecificDefault
            ? Default
            : new PathNormalizer(plan.NormalizePath, plan.MergeSlashes, plan.PathWithEscapedSlashesAction);

    /// <summary>Sanitizes <paramref name="pathAndQuery"/> (which starts with '/').</summary>
    /// <param name="pathAndQuery">The request's <c>:path</c>, query included.</param>
    /// <param name="normalized">The path to route and forward (also the redirect's <c>location</c>); the input instance when nothing changed.</param>
    public PathAction Normalize(string pathAndQuery, out string normalized)
    {
        normalized = pathAndQuery;
        if (pathAndQuery.Contains('#'))
        {
            return PathAction.Reject;
        }
        var action = PathAction.Continue;
        if (_escapedSlashes != PathWithEscapedSlashesAction.KeepUnchanged)
        {
            normalized = UnescapeSlashes(normalized, out var found);
            if (found)
            {
                if (_escapedSlashes == PathWithEscapedSlashesAction.RejectRequest)
                {
                    return PathAction.Reject;
                }
                if (_escapedSlashes == PathWithEscapedSlashesAction.UnescapeAndRedirect)
                {
                    action = PathAction.Redirect;
                }
            }
        }
        if (_normalize && !TryCanonicalize(normalized, out normalized))
        {
            return PathAction.Reject;
        }
        if (_mergeSlashes)
        {
            // After normalization, as Envoy does, so that decoded forms cannot reintroduce "//".
            normalized = MergeSlashes(normalized);
        }
        return action;
    }

    /// <summary>
    /// <c>PathUtil::unescapeSlashes</c>: <c>%2F</c>/<c>%2f</c> become '/', <c>%5C</c>/<c>%5c</c> become '\' in the path
    /// (before the first '?'); <paramref name="found"/> tells whether there were any.
    /// </summary>
    internal static string UnescapeSlashes(string pathAndQuery, out bool found)
    {
        found = false;
        var pathLength = PathLength(pathAndQuery, '?');
        var path = pathAndQuery.AsSpan(0, pathLength);
        var first = FindEscapedSlash(path, 0);
        if (first < 0)
        {
            return pathAndQuery;
        }
        found = true;
        var builder = new StringBuilder(pathAndQuery.Length);
        var copied = 0;
        for (var i = first; i >= 0; i = FindEscapedSlash(path, copied))
        {
            builder.Append(path[copied..i]).Append(path[i + 1] == '2' ? '/' : '\\');
            copied = i + 3;
        }
        return builder.Append(pathAndQuery.AsSpan(copied)).ToString();
    }

    private static int FindEscapedSlash(ReadOnlySpan<char> path, int from)
    {
        for (var i = path[from..].IndexOf('%'); i >= 0; i = path[from..].IndexOf('%'))
        {
            var at = from + i;
            if (at + 2 < path.Length
                && ((path[at + 1] == '2' && (path[at + 2] | 0x20) == 'f') || (path[at + 1] == '5' && (path[at + 2] | 0x20) == 'c')))
            {
                return at;
            }
            from = at + 1;
        }
        return -1;
    }

    /// <summary>
    /// <c>PathUtil::mergeSlashes</c>: runs of '/' in the path (before the first '?') become one; a leading and a trailing
    /// slash are kept.
    /// </summary>
    internal static string MergeSlashes(string pathAndQuery)
    {
        var pathLength = PathLength(pathAndQuery, '?');
        var path = pathAndQuery.AsSpan(0, pathLength);
        if (!path.Contains("//", StringComparison.Ordinal))
        {
            return pathAndQuery;
        }
        var builder = new StringBuilder(pathAndQuery.Length);
        if (path[0] == '/')
        {
            builder.Append('/');
        }
        var wroteSegment = false;
        foreach (var range in path.Split('/'))
        {
            if (range.End.Value == range.Start.Value)
            {
                continue;
            }
            if (wroteSegment)
            {
                builder.Append('/');
            }
            builder.Append(path[range]);
            wroteSegment = true;
        }
        if (path[^1] == '/')
        {
            builder.Append('/');
        }
        return builder.Append(pathAndQuery.AsSpan(pathLength)).ToString();
    }

    /// <summary>
    /// <c>PathUtil::stripParametersFromDotSegments</c> (runtime <c>strip_dotdot_segments_with_parameters</c>, on by
    /// default): a segment starting with <c>..;</c> becomes <c>..</c> and one starting with <c>.;</c> becomes <c>.</c>,
    /// so that the canonicalizer treats them as dot segments.
    /// </summary>
    internal static string StripDotSegmentParameters(string pathAndQuery)
    {
        var pathLength = pathAndQuery.AsSpan().IndexOfAny('?', '#');
        var path = pathAndQuery.AsSpan(0, pathLength < 0 ? pathAndQuery.Length : pathLength);
        if (!path.Contains(".;", StringComparison.Ordinal))
        {
            return pathAndQuery;
        }
        var builder = new StringBuilder(pathAndQuery.Length);
        var first = true;
        foreach (var range in path.Split('/'))
        {
            if (!first)
            {
                builder.Append('/');
            }
            first = false;
            var segment = path[range];
            builder.Append(segment.StartsWith("..;", StringComparison.Ordinal) ? ".." : segment.StartsWith(".;", StringComparison.Ordinal) ? "." : segment);
        }
        return builder.Append(pathAndQuery.AsSpan(path.Length)).ToString();
    }

    /// <summary>
    /// <c>PathUtil::canonicalPath</c>: dot-segment parameters stripped, then the path (before the first '?') canonicalized
    /// as Chromium's <c>url::CanonicalizePath</c> does; the query is appended unchanged. False when the path holds a
    /// character the canonicalizer refuses (<c>%00</c>, a NUL, invalid UTF-16).
    /// </summary>
    internal static bool TryCanonicalize(string pathAndQuery, out string canonical)
    {
        canonical = pathAndQuery;
        var input = StripDotSegmentParameters(pathAndQuery);
        var pathLength = PathLength(input, '?');
        var path = input.AsSpan(0, pathLength);
        if (path.Length > 0 && IsSlash(path[0]) && path.IndexOfAnyExcept(PlainPathChars) < 0)
        {
            // Only characters the canonicalizer copies as they are: nothing to do.
            canonical = input;
            return true;
        }

        // Worst cases: an ASCII character becomes %XX (3), a UTF-16 unit becomes up to three escaped UTF-8 bytes (9).
        var capacity = 1 + (Ascii.IsValid(path) ? 3 : 9) * path.Length;
        var rented = ArrayPool<char>.Shared.Rent(capacity);
        try
        {
            var length = Canonicalize(path, rented, out var valid);
            if (!valid)
            {
                return false;
            }
            var output = rented.AsSpan(0, length);
            canonical = output.SequenceEqual(path) ? input : string.Concat(output, input.AsSpan(pathLength));
            return true;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static int PathLength(string pathAndQuery, char end)
    {
        var at = pathAndQuery.IndexOf(end);
        return at < 0 ? pathAndQuery.Length : at;
    }

    private static bool IsSlash(char c) => c is '/' or '\\';

    // The character classes of Chromium's kPathCharLookup (url_canon_path.cc), as Envoy's copy has them.
    private const byte Pass = 0;
    private const byte Special = 1;
    private const byte EscapeBit = 2;
    private const byte Escape = EscapeBit | Special;
    private const byte Unescape = 4;
    private const byte InvalidBit = 8;
    private const byte Invalid = InvalidBit | Special;

    private static readonly byte[] PathCharFlags = BuildPathCharFlags();

    /// <summary>ASCII characters the canonicalizer copies unchanged wherever they are.</summary>
    private static readonly SearchValues<char> PlainPathChars = SearchValues.Create(BuildPlainPathChars());

    private static byte[] BuildPathCharFlags()
    {
        var flags = new byte[256];
        Array.Fill(flags, Escape);
        flags[0] = Invalid;
        foreach (var c in "!$&'()*+,/:;=@[]")
        {
            flags[c] = Pass;
        }
        foreach (var c in "-_~")
        {
            flags[c] = Unescape;
        }
        for (var c = '0'; c <= '9'; c++)
        {
            flags[c] = Unescape;
        }
        for (var c = 'A'; c <= 'Z'; c++)
        {
            flags[c] = Unescape;
            flags[c | 0x20] = Unescape;
        }
        // '.' is handled as a dot segment; '%' and '\' keep their Escape class but have their own branches.
        flags['.'] = Special;
        return flags;
    }

    private static string BuildPlainPathChars()
    {
        var chars = new StringBuilder();
        for (var c = 0; c < 0x80; c++)
        {
            if ((PathCharFlags[c] & Special) == 0)
            {
                chars.Append((char)c);
            }
        }
        return chars.ToString();
    }

    private enum DotKind
    {
        NotADirectory,
        Current,
        Up,
    }

    /// <summary>Chromium's <c>DoPath</c>/<c>DoPartialPath</c> into <paramref name="output"/>; returns the length written.</summary>
    private static int Canonicalize(ReadOnlySpan<char> path, Span<char> output, out bool valid)
    {
        valid = true;
        var length = 0;
        if (path.Length == 0 || !IsSlash(path[0]))
        {
            output[length++] = '/';
        }
        // Index in the output of a '%' that did not start a valid escape, or -1.
        var lastInvalidPercent = -1;
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (c >= 0x80)
            {
                valid &= AppendUtf8Escaped(path, ref i, output, ref length);
                continue;
            }
            var flags = PathCharFlags[c];
            if ((flags & Special) == 0)
            {
                output[length++] = c;
                continue;
            }
            var dot = DotLength(path, i);
            if (dot > 0)
            {
                if (length > 0 && output[length - 1] == '/')
                {
                    switch (ClassifyAfterDot(path, i + dot, out var consumed))
                    {
                        case DotKind.NotADirectory:
                            output[length++] = '.';
                            i += dot - 1;
                            break;
                        case DotKind.Current:
                            i += dot + consumed - 1;
                            break;
                        case DotKind.Up:
                            length = BackUpToPreviousSlash(output, length);
                            if (lastInvalidPercent >= length)
                            {
                                lastInvalidPercent = -1;
                            }
                            i += dot + consumed - 1;
                            break;
                    }
                }
                else
                {
                    // A dot inside a segment name.
                    output[length++] = '.';
                    i += dot - 1;
                }
            }
            else if (c == '\\')
            {
                output[length++] = '/';
            }
            else if (c == '%')
            {
                if (TryDecodeEscape(path, i, out var value))
                {
                    i += 2;
                    var valueFlags = PathCharFlags[value];
                    if ((valueFlags & Unescape) != 0)
                    {
                        output[length++] = (char)value;
                        if (lastInvalidPercent >= 0 && lastInvalidPercent >= length - 3)
                        {
                            EscapeNestedPercent(path, i + 1, lastInvalidPercent, output, ref length);
                        }
                    }
                    else
                    {
                        // Kept escaped, hex digits as sent.
                        output[length++] = '%';
                        output[length++] = path[i - 1];
                        output[length++] = path[i];
                        if ((valueFlags & InvalidBit) != 0)
                        {
                            valid = false;
                        }
                    }
                }
                else
                {
                    // Not an escape: copied as is (the permissive choice Chromium makes).
                    lastInvalidPercent = length;
                    output[length++] = '%';
                }
            }
            else
            {
                AppendEscaped((byte)c, output, ref length);
                if ((flags & InvalidBit) != 0)
                {
                    valid = false;
                }
            }
        }
        return length;
    }

    /// <summary>Chromium's <c>IsDot</c>: 1 for '.', 3 for <c>%2e</c>/<c>%2E</c>, 0 otherwise.</summary>
    private static int DotLength(ReadOnlySpan<char> path, int at)
    {
        if (path[at] == '.')
        {
            return 1;
        }
        return path[at] == '%' && at + 3 <= path.Length && path[at + 1] == '2' && (path[at + 2] | 0x20) == 'e' ? 3 : 0;
    }

    private static DotKind ClassifyAfterDot(ReadOnlySpan<char> path, int afterDot, out int consumed)
    {
        consumed = 0;
        if (afterDot == path.Length)
        {
            return DotKind.Current;
        }
        if (IsSlash(path[afterDot]))
        {
            consumed = 1;
            return DotKind.Current;
        }
        var second = DotLength(path, afterDot);
        if (second > 0)
        {
            var afterSecond = afterDot + second;
            if (afterSecond == path.Length)
            {
                consumed = second;
                return DotKind.Up;
            }
            if (IsSlash(path[afterSecond]))
            {
                consumed = second + 1;
                return DotKind.Up;
            }
        }
        return DotKind.NotADirectory;
    }

    /// <summary>Drops the last segment of the output, which ends with '/'; never above the first slash.</summary>
    private static int BackUpToPreviousSlash(Span<char> output, int length)
    {
        var i = length - 1;
        if (i == 0)
        {
            return length;
        }
        do
        {
            i--;
        }
        while (output[i] != '/' && i > 0);
        return i + 1;
    }

    private static bool TryDecodeEscape(ReadOnlySpan<char> text, int at, out byte value)
    {
        value = 0;
        if (at + 3 > text.Length)
        {
            return false;
        }
        var high = HexValue(text[at + 1]);
        var low = HexValue(text[at + 2]);
        if (high < 0 || low < 0)
        {
            return false;
        }
        value = (byte)((high << 4) | low);
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// Chromium's <c>CheckForNestedEscapes</c>: when unescaping just turned an earlier stray '%' into a valid escape
    /// (<c>%%30%30</c> → <c>%00</c>), that '%' is written as <c>%25</c> so the output cannot be decoded into something else.
    /// </summary>
    private static void EscapeNestedPercent(ReadOnlySpan<char> path, int nextInput, int percent, Span<char> output, ref int length)
    {
        var saved = length;
        var lastUnescaped = output[length - 1];
        var appendNext = percent == length - 2;
        if (appendNext)
        {
            if (nextInput == path.Length || path[nextInput] >= 0x80)
            {
                return;
            }
            output[length++] = path[nextInput];
        }
        if (TryDecodeEscape(output[..length], percent, out _))
        {
            if (!appendNext)
            {
                output[length++] = output[percent + 1];
            }
            output[percent + 1] = '2';
            output[percent + 2] = '5';
            output[length++] = lastUnescaped;
        }
        else if (appendNext)
        {
            length = saved;
        }
    }

    private static void AppendEscaped(byte b, Span<char> output, ref int length)
    {
        output[length++] = '%';
        output[length++] = "0123456789ABCDEF"[b >> 4];
        output[length++] = "0123456789ABCDEF"[b & 0xF];
    }

    /// <summary>A non-ASCII character as escaped UTF-8 bytes; an unpaired surrogate becomes U+FFFD and fails, as in Chromium.</summary>
    private static bool AppendUtf8Escaped(ReadOnlySpan<char> path, ref int i, Span<char> output, ref int length)
    {
        var status = Rune.DecodeFromUtf16(path[i..], out var rune, out var consumed);
        i += consumed - 1;
        Span<byte> bytes = stackalloc byte[4];
        var count = rune.EncodeToUtf8(bytes);
        for (var b = 0; b < count; b++)
        {
            AppendEscaped(bytes[b], output, ref length);
        }
        return status == OperationStatus.Done;
    }
}
