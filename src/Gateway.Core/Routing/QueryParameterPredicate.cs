using Gateway.Configuration;

namespace Gateway.Routing;

/// <summary>
/// A compiled <c>envoy.config.route.v3.QueryParameterMatcher</c>, with the semantics of Envoy's
/// <c>ConfigUtility::QueryParameterMatcher</c> (source/common/router/config_utility.cc) over
/// <c>QueryParamsMulti::parseQueryString</c> (source/common/http/utility.cc):
/// <list type="bullet">
/// <item>The query is the text after the first '?', split on '&amp;', each part split at its first '='; a part with
/// no '=' is a parameter with the empty value. Names and values are not percent-decoded; names compare exactly.</item>
/// <item>Only the first occurrence of a repeated parameter is matched.</item>
/// <item><c>present_match: true|false</c> matches when the parameter is present|absent; a <c>string_match</c> needs
/// the parameter present and its first value to match; neither means present.</item>
/// </list>
/// </summary>
internal sealed class QueryParameterPredicate
{
    private readonly string _name;
    private readonly bool? _present;
    private readonly StringPredicate? _string;

    private QueryParameterPredicate(string name, bool? present, StringPredicate? stringPredicate)
    {
        _name = name;
        _present = present;
        _string = stringPredicate;
    }

    /// <summary>Compiles a query parameter matcher that passed validation (<c>MatcherValidator</c>: a name, one of string_match and present_match).</summary>
    /// <param name="config">The matcher.</param>
    public static QueryParameterPredicate FromConfig(QueryParameterMatcher config)
    {
        var stringPredicate = config.StringMatch is { } stringMatch ? StringPredicate.FromConfig(stringMatch) : null;
        return new QueryParameterPredicate(config.Name!, stringPredicate is null ? config.PresentMatch : null, stringPredicate);
    }

    /// <summary>Tests the query string (the text after '?').</summary>
    public bool Matches(ReadOnlySpan<char> query)
    {
        var found = TryGetFirstValue(query, _name, out var value);
        if (_present is { } present)
        {
            return found == present;
        }
        if (!found)
        {
            return false;
        }
        return _string is null || _string.Matches(value);
    }

    /// <summary>Finds the first value of <paramref name="name"/> in a raw query string, without decoding.</summary>
    public static bool TryGetFirstValue(ReadOnlySpan<char> query, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        while (!query.IsEmpty)
        {
            var amp = query.IndexOf('&');
            var part = amp < 0 ? query : query[..amp];
            var equals = part.IndexOf('=');
            var key = equals < 0 ? part : part[..equals];
            if (key.SequenceEqual(name))
            {
                value = equals < 0 ? default : part[(equals + 1)..];
                return true;
            }
            if (amp < 0)
            {
                break;
            }
            query = query[(amp + 1)..];
        }
        value = default;
        return false;
    }
}
