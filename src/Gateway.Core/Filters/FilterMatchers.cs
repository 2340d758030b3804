using System.Text;
using System.Text.RegularExpressions;
using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Validation;

namespace Gateway.Filters;

/// <summary>
/// A filter's list of <c>envoy.config.route.v3.HeaderMatcher</c>s, checked and compiled with the route matcher's
/// semantics (Envoy's <c>HeaderUtility::matchHeaders</c>: every matcher must match; pseudo-headers <c>:path</c>,
/// <c>:method</c>, <c>:authority</c>, <c>:scheme</c> read the request as routed).
/// </summary>
public sealed class HttpHeaderMatchers
{
    private readonly HeaderPredicate[] _predicates;

    private HttpHeaderMatchers(HeaderPredicate[] predicates) => _predicates = predicates;

    /// <summary>True when there is no matcher (every request matches).</summary>
    public bool IsEmpty => _predicates.Length == 0;

    /// <summary>Reports what is wrong with the matchers (name, one specifier, regexes, ranges), as routes' matchers are checked.</summary>
    public static void Validate(IReadOnlyList<HeaderMatcher> matchers, HttpFilterValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(matchers);
        ArgumentNullException.ThrowIfNull(context);
        var validation = new ValidationContext(Types);
        var validator = new MatcherValidator(validation);
        foreach (var matcher in matchers)
        {
            validator.ValidateHeaderMatcher(matcher);
        }
        foreach (var error in validation.Errors)
        {
            context.Report(error);
        }
    }

    /// <summary>Compiles matchers that passed <see cref="Validate"/>.</summary>
    public static HttpHeaderMatchers Compile(IReadOnlyList<HeaderMatcher> matchers)
    {
        ArgumentNullException.ThrowIfNull(matchers);
        var predicates = new HeaderPredicate[matchers.Count];
        for (var i = 0; i < predicates.Length; i++)
        {
            predicates[i] = HeaderPredicate.FromConfig(matchers[i]);
        }
        return new HttpHeaderMatchers(predicates);
    }

    /// <summary>True when every matcher matches the request's current headers.</summary>
    public bool Matches(HttpFilterContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_predicates.Length == 0)
        {
            return true;
        }
        var request = context.HttpContext.Request;
        var host = request.Headers.Host;
        var (scheme, path) = context is FilterChainStream stream ? (stream.Scheme, stream.PathAndQuery) : (request.Scheme, request.Path + request.QueryString);
        var view = new RequestView(host.Count == 0 ? null : host.ToString(), request.Method, scheme, path, request.Headers);
        foreach (var predicate in _predicates)
        {
            if (!predicate.Matches(view))
            {
                return false;
            }
        }
        return true;
    }

    // The matcher checks consult no registered type.
    private static readonly EnvoyTypeRegistry Types = EnvoyTypeRegistry.CreateDefault();
}

/// <summary>
/// <c>envoy.type.matcher.v3.RegexMatchAndSubstitute</c> compiled: RE2 syntax, every match replaced (RE2's
/// <c>GlobalReplace</c>), <c>\0</c>–<c>\9</c> in the substitution standing for the capture groups.
/// </summary>
public sealed class RegexSubstitution
{
    private readonly Regex _regex;
    private readonly string _replacement;

    private RegexSubstitution(Regex regex, string replacement)
    {
        _regex = regex;
        _replacement = replacement;
    }

    /// <summary>Null when the pattern is valid RE2 within Envoy's program-size bound, else RE2's (or Envoy's) error.</summary>
    public static string? Validate(string pattern) => EnvoyRegex.Validate(pattern);

    /// <summary>Compiles a pattern that passed <see cref="Validate"/>.</summary>
    public static RegexSubstitution Compile(string pattern, string substitution)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(substitution);
        var regex = new Regex(Re2Syntax.ToDotNet(pattern), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        return new RegexSubstitution(regex, ToDotNetReplacement(substitution));
    }

    /// <summary>The value with every match replaced.</summary>
    public string Apply(string value) => _regex.Replace(value, _replacement);

    /// <summary>RE2's rewrite string (<c>\N</c> groups, <c>\\</c> a backslash) as a .NET replacement pattern (<c>$</c> escaped).</summary>
    private static string ToDotNetReplacement(string substitution)
    {
        var result = new StringBuilder(substitution.Length + 8);
        for (var i = 0; i < substitution.Length; i++)
        {
            var c = substitution[i];
            if (c == '\\' && i + 1 < substitution.Length)
            {
                var next = substitution[i + 1];
                if (next is >= '0' and <= '9')
                {
                    result.Append("${").Append(next).Append('}');
                    i++;
                    continue;
                }
                if (next == '\\')
                {
                    result.Append('\\');
                    i++;
                    continue;
                }
            }
            result.Append(c == '$' ? "$$" : c.ToString());
        }
        return result.ToString();
    }
}
