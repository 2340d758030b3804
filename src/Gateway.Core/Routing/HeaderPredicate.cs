using Gateway.Configuration;
using Microsoft.Extensions.Primitives;

namespace Gateway.Routing;

/// <summary>
/// A compiled <c>envoy.config.route.v3.HeaderMatcher</c>, with the semantics of Envoy's
/// <c>HeaderUtility::matchHeaders</c> (source/common/http/header_utility.cc):
/// <list type="bullet">
/// <item>Several values of one header are joined with ',' and matched as one string.</item>
/// <item>A missing header (unless <c>treat_missing_header_as_empty</c>) matches only <c>present_match: false</c>, or
/// <c>present_match: true</c> with <c>invert_match</c>; every value matcher fails on it, inverted or not.</item>
/// <item>Otherwise the result of the specifier is XOR-ed with <c>invert_match</c>; no specifier means present.</item>
/// <item>Deprecated <c>exact_match: ""</c> matches any value.</item>
/// </list>
/// </summary>
internal sealed class HeaderPredicate
{
    private readonly string _name;
    private readonly HeaderSource _source;
    private readonly HeaderPredicateKind _kind;
    private readonly bool _present;
    private readonly StringPredicate? _string;
    private readonly long _rangeStart;
    private readonly long _rangeEnd;
    private readonly bool _invert;
    private readonly bool _treatMissingAsEmpty;

    private HeaderPredicate(HeaderMatcher config, string name, HeaderPredicateKind kind, bool present, StringPredicate? stringPredicate)
    {
        _name = name;
        _source = SourceOf(name);
        _kind = kind;
        _present = present;
        _string = stringPredicate;
        _rangeStart = config.RangeMatch?.Start ?? 0;
        _rangeEnd = config.RangeMatch?.End ?? 0;
        _invert = config.InvertMatch;
        _treatMissingAsEmpty = config.TreatMissingHeaderAsEmpty;
    }

    /// <summary>Compiles a header matcher that passed validation (<c>MatcherValidator</c>: a name, at most one specifier, valid regexes).</summary>
    /// <param name="config">The matcher.</param>
    public static HeaderPredicate FromConfig(HeaderMatcher config)
    {
        var name = config.Name!;
        if (config.ExactMatch is { } exact)
        {
            return exact.Length == 0
                ? new HeaderPredicate(config, name, HeaderPredicateKind.AnyValue, false, null)
                : new HeaderPredicate(config, name, HeaderPredicateKind.String, false, StringPredicate.Exact(exact, ignoreCase: false));
        }
        if (config.SafeRegexMatch is { } regex)
        {
            var compiled = StringPredicate.CompileRegex(regex);
            return new HeaderPredicate(config, name, HeaderPredicateKind.String, false, StringPredicate.Regex(compiled));
        }
        if (config.RangeMatch is not null)
        {
            return new HeaderPredicate(config, name, HeaderPredicateKind.Range, false, null);
        }
        if (config.PresentMatch is { } present)
        {
            return new HeaderPredicate(config, name, HeaderPredicateKind.Present, present, null);
        }
        if (config.PrefixMatch is { } prefix)
        {
            return new HeaderPredicate(config, name, HeaderPredicateKind.String, false, StringPredicate.Prefix(prefix, ignoreCase: false));
        }
        if (config.SuffixMatch is { } suffix)
        {
            return new HeaderPredicate(config, name, HeaderPredicateKind.String, false, StringPredicate.Suffix(suffix, ignoreCase: false));
        }
        if (config.ContainsMatch is { } contains)
        {
            return new HeaderPredicate(config, name, HeaderPredicateKind.String, false, StringPredicate.Contains(contains, ignoreCase: false));
        }
        if (config.StringMatch is { } stringMatch)
        {
            return new HeaderPredicate(config, name, HeaderPredicateKind.String, false, StringPredicate.FromConfig(stringMatch));
        }
        // No specifier: Envoy treats it as present_match: true.
        return new HeaderPredicate(config, name, HeaderPredicateKind.Present, true, null);
    }

    /// <summary>Tests the request.</summary>
    public bool Matches(in RequestView request)
    {
        ReadOnlySpan<char> value;
        bool found;
        switch (_source)
        {
            case HeaderSource.Authority:
                found = request.Host is not null;
                value = request.Host;
                break;
            case HeaderSource.Method:
                found = true;
                value = request.Method;
                break;
            case HeaderSource.Path:
                found = true;
                value = request.PathAndQuery;
                break;
            case HeaderSource.Scheme:
                found = true;
                value = request.Scheme;
                break;
            default:
                found = request.Headers.TryGetValue(_name, out var values) && values.Count > 0;
                value = found ? Join(values) : default;
                break;
        }

        if (!found && !_treatMissingAsEmpty)
        {
            return _kind == HeaderPredicateKind.Present && (_invert ? _present : !_present);
        }

        bool match;
        switch (_kind)
        {
            case HeaderPredicateKind.Present:
                match = _present;
                break;
            case HeaderPredicateKind.AnyValue:
                match = true;
                break;
            case HeaderPredicateKind.Range:
                // absl::SimpleAtoi: optional surrounding ASCII whitespace and sign, base-10 digits, no overflow.
                match = long.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number)
                    && number >= _rangeStart && number < _rangeEnd;
                break;
            default:
                match = _string!.Matches(value);
                break;
        }
        return match != _invert;
    }

    private static string Join(StringValues values)
    {
        if (values.Count == 1)
        {
            return values[0] ?? string.Empty;
        }
        // Envoy joins every value, empty ones too (StringValues.ToString() would skip empties). Rare, so it may allocate.
        return string.Join(',', ((string?[]?)values)!);
    }

    private static HeaderSource SourceOf(string name)
    {
        // Envoy keeps Host as :authority (its header map maps the legacy "host" name onto it), so both read the authority.
        if (name.Equals(":authority", StringComparison.OrdinalIgnoreCase) || name.Equals("host", StringComparison.OrdinalIgnoreCase))
        {
            return HeaderSource.Authority;
        }
        if (name.Equals(":method", StringComparison.OrdinalIgnoreCase))
        {
            return HeaderSource.Method;
        }
        if (name.Equals(":path", StringComparison.OrdinalIgnoreCase))
        {
            return HeaderSource.Path;
        }
        if (name.Equals(":scheme", StringComparison.OrdinalIgnoreCase))
        {
            return HeaderSource.Scheme;
        }
        return HeaderSource.Dictionary;
    }

    private enum HeaderSource : byte
    {
        Dictionary,
        Authority,
        Method,
        Path,
        Scheme,
    }

    private enum HeaderPredicateKind : byte
    {
        Present,
        AnyValue,
        String,
        Range,
    }
}
