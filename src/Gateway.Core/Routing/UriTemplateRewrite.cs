namespace Gateway.Routing;

/// <summary>
/// A compiled <c>UriTemplateRewriteConfig.path_template_rewrite</c> bound to its route's match template (Envoy's
/// uri_template.cc parseRewritePattern and uri_template_rewrite.cc rewritePath): literals and <c>{name}</c> references to
/// the match template's variables, concatenated from the path's captures.
/// </summary>
internal sealed class UriTemplateRewrite
{
    private readonly UriTemplate _match;
    private readonly string?[] _literals;
    private readonly int[] _variables;

    private UriTemplateRewrite(UriTemplate match, string?[] literals, int[] variables)
    {
        _match = match;
        _literals = literals;
        _variables = variables;
    }

    /// <summary>Envoy's isValidRewritePattern: null when valid, else parseRewritePattern's message.</summary>
    public static string? Validate(string rewrite) => Parse(rewrite, out _);

    /// <summary>
    /// Envoy's isValidSharedVariableSet: whether every variable the rewrite names is one of <paramref name="match"/>'s.
    /// </summary>
    public static bool UsesOnlyVariablesOf(string rewrite, UriTemplate match)
    {
        if (Parse(rewrite, out var parts) is not null)
        {
            return false;
        }
        foreach (var (text, isVariable) in parts!)
        {
            if (isVariable && !Contains(match.Variables, text))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Compiles a rewrite that passed <see cref="Validate"/> and <see cref="UsesOnlyVariablesOf"/>.</summary>
    public static UriTemplateRewrite FromValidated(string rewrite, UriTemplate match)
    {
        if (Parse(rewrite, out var parts) is { } error)
        {
            throw new ArgumentException(error, nameof(rewrite));
        }
        var literals = new string?[parts!.Count];
        var variables = new int[parts.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            var (text, isVariable) = parts[i];
            literals[i] = isVariable ? null : text;
            variables[i] = isVariable ? IndexOf(match.Variables, text) : -1;
        }
        return new UriTemplateRewrite(match, literals, variables);
    }

    /// <summary>The new path, or null when the path does not match the route's template (then nothing is rewritten).</summary>
    public string? Apply(ReadOnlySpan<char> path)
    {
        Span<int> captures = stackalloc int[UriTemplate.MaxVariables * 2];
        if (!_match.TryMatch(path, captures))
        {
            return null;
        }
        var length = 0;
        for (var i = 0; i < _literals.Length; i++)
        {
            length += _literals[i] is { } literal ? literal.Length : captures[(_variables[i] * 2) + 1] - captures[_variables[i] * 2];
        }
        Span<char> buffer = length <= 512 ? stackalloc char[length] : new char[length];
        var written = 0;
        for (var i = 0; i < _literals.Length; i++)
        {
            var part = _literals[i] is { } literal ? literal.AsSpan()
                : path[captures[_variables[i] * 2]..captures[(_variables[i] * 2) + 1]];
            part.CopyTo(buffer[written..]);
            written += part.Length;
        }
        return new string(buffer);
    }

    private static bool Contains(IReadOnlyList<string> names, string name) => IndexOf(names, name) >= 0;

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Envoy's parseRewritePattern: a leading '/', no "//", literals of <c>[pchar/]</c> and <c>{name}</c>.</summary>
    private static string? Parse(string rewrite, out List<(string Text, bool IsVariable)>? parts)
    {
        parts = null;
        if (rewrite.Length == 0 || rewrite[0] != '/')
        {
            return "Invalid rewrite variable placement";
        }
        if (rewrite.Contains("//", StringComparison.Ordinal))
        {
            return "Invalid rewrite literal";
        }
        var result = new List<(string, bool)>();
        var rest = rewrite.AsSpan();
        while (!rest.IsEmpty)
        {
            var open = rest.IndexOf('{');
            var literal = open < 0 ? rest : rest[..open];
            if (!literal.IsEmpty)
            {
                if (!UriTemplate.IsValidRewriteLiteral(literal))
                {
                    return "Invalid rewrite literal pattern";
                }
                result.Add((literal.ToString(), false));
            }
            if (open < 0)
            {
                break;
            }
            var afterOpen = rest[(open + 1)..];
            var close = afterOpen.IndexOf('}');
            if (close < 0)
            {
                return "Unmatched variable bracket";
            }
            var name = afterOpen[..close];
            rest = afterOpen[(close + 1)..];
            if (!UriTemplate.IsValidVariableName(name))
            {
                return "Invalid variable name";
            }
            result.Add((name.ToString(), true));
        }
        parts = result;
        return null;
    }
}
