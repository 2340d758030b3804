using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Routing;

/// <summary>
/// <c>envoy.type.matcher.v3.RegexMatchAndSubstitute</c> compiled: RE2 syntax, every match replaced (RE2's
/// <c>GlobalReplace</c>), <c>\0</c>–<c>\9</c> in the substitution standing for the capture groups.
/// </summary>
internal sealed class RegexSubstitution
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

    /// <summary>Compiles a pattern that passed <see cref="Validate"/> (unanchored: every match is replaced).</summary>
    public static RegexSubstitution Compile(string pattern, string substitution)
        => new(new Regex(Re2Syntax.ToDotNet(pattern), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking), ToDotNetReplacement(substitution));

    /// <summary>The value with every match replaced.</summary>
    public string Apply(string value) => _regex.Replace(value, _replacement);

    /// <summary>RE2's rewrite string (<c>\N</c> groups, <c>\\</c> a backslash) as a .NET replacement pattern (<c>$</c> escaped).</summary>
    private static string ToDotNetReplacement(string substitution)
    {
        var result = new StringBuilder(substitution.Length + 8);
        for (var i = 0; i < substitution.Length; i++)
        {
            var c = substitution[i];
            if (c == '\\' && i + 1 < substitution.Length && substitution[i + 1] is >= '0' and <= '9')
            {
                result.Append("${").Append(substitution[i + 1]).Append('}');
                i++;
            }
            else if (c == '\\' && i + 1 < substitution.Length && substitution[i + 1] == '\\')
            {
                result.Append('\\');
                i++;
            }
            else
            {
                result.Append(c == '$' ? "$$" : c.ToString());
            }
        }
        return result.ToString();
    }
}
