using Gateway.Configuration;

namespace Gateway.Routing;

/// <summary>
/// A compiled <c>envoy.type.matcher.v3.StringMatcher</c> (Envoy's <c>StringMatcherImpl</c>): exact, prefix, suffix and
/// contains compare ordinally, or ignoring ASCII case when <c>ignore_case</c> is set; <c>safe_regex</c> must match the
/// whole value and ignores <c>ignore_case</c>.
/// </summary>
internal sealed class StringPredicate
{
    private readonly StringPredicateKind _kind;
    private readonly string _pattern;
    private readonly bool _ignoreCase;
    private readonly EnvoyRegex? _regex;

    private StringPredicate(StringPredicateKind kind, string pattern, bool ignoreCase, EnvoyRegex? regex)
    {
        _kind = kind;
        // Contains-ignoring-case compares against a lower-cased needle, as Envoy caches one.
        _pattern = kind == StringPredicateKind.Contains && ignoreCase ? AsciiText.ToLower(pattern) : pattern;
        _ignoreCase = ignoreCase;
        _regex = regex;
    }

    /// <summary>Which comparison this is.</summary>
    public StringPredicateKind Kind => _kind;

    /// <summary>An exact comparison.</summary>
    public static StringPredicate Exact(string value, bool ignoreCase) => new(StringPredicateKind.Exact, value, ignoreCase, null);

    /// <summary>A prefix comparison.</summary>
    public static StringPredicate Prefix(string value, bool ignoreCase) => new(StringPredicateKind.Prefix, value, ignoreCase, null);

    /// <summary>A suffix comparison.</summary>
    public static StringPredicate Suffix(string value, bool ignoreCase) => new(StringPredicateKind.Suffix, value, ignoreCase, null);

    /// <summary>A substring comparison.</summary>
    public static StringPredicate Contains(string value, bool ignoreCase) => new(StringPredicateKind.Contains, value, ignoreCase, null);

    /// <summary>A whole-value regex.</summary>
    public static StringPredicate Regex(EnvoyRegex regex) => new(StringPredicateKind.Regex, regex.Pattern, false, regex);

    /// <summary>Compiles a <c>StringMatcher</c> that passed validation (<c>MatcherValidator</c>: exactly one pattern, a valid regex).</summary>
    /// <param name="matcher">The matcher.</param>
    public static StringPredicate FromConfig(StringMatcher matcher)
    {
        if (matcher.Exact is { } exact)
        {
            return Exact(exact, matcher.IgnoreCase);
        }
        if (matcher.Prefix is { } prefix)
        {
            return Prefix(prefix, matcher.IgnoreCase);
        }
        if (matcher.Suffix is { } suffix)
        {
            return Suffix(suffix, matcher.IgnoreCase);
        }
        if (matcher.SafeRegex is { } regex)
        {
            return Regex(CompileRegex(regex));
        }
        return Contains(matcher.Contains!, matcher.IgnoreCase);
    }

    /// <summary>Compiles a <c>RegexMatcher</c> that passed validation (the validator ran RE2's checks on it).</summary>
    public static EnvoyRegex CompileRegex(RegexMatcher matcher) => EnvoyRegex.FromValidated(matcher.Regex!);

    /// <summary>Tests a value.</summary>
    public bool Matches(ReadOnlySpan<char> value)
    {
        switch (_kind)
        {
            case StringPredicateKind.Exact:
                return _ignoreCase ? AsciiText.EqualsIgnoreCase(value, _pattern) : value.SequenceEqual(_pattern);
            case StringPredicateKind.Prefix:
                return _ignoreCase ? AsciiText.StartsWithIgnoreCase(value, _pattern) : value.StartsWith(_pattern, StringComparison.Ordinal);
            case StringPredicateKind.Suffix:
                return _ignoreCase ? AsciiText.EndsWithIgnoreCase(value, _pattern) : value.EndsWith(_pattern, StringComparison.Ordinal);
            case StringPredicateKind.Contains:
                return _ignoreCase ? AsciiText.ContainsIgnoreCase(value, _pattern) : value.Contains(_pattern, StringComparison.Ordinal);
            default:
                return _regex!.IsFullMatch(value);
        }
    }
}

/// <summary>The comparison a <see cref="StringPredicate"/> makes.</summary>
internal enum StringPredicateKind
{
    /// <summary>Whole value equal.</summary>
    Exact,

    /// <summary>Value starts with the pattern.</summary>
    Prefix,

    /// <summary>Value ends with the pattern.</summary>
    Suffix,

    /// <summary>Value contains the pattern.</summary>
    Contains,

    /// <summary>Whole value matches the regex.</summary>
    Regex,
}
