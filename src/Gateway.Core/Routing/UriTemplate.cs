namespace Gateway.Routing;

/// <summary>
/// A compiled <c>UriTemplateMatchConfig.path_template</c> (Envoy's source/extensions/path/uri_template_lib: the syntax of
/// uri_template_internal.cc's parsePathPatternSyntax, the semantics of the RE2 pattern its toRegexPattern builds, matched
/// against the whole path). Literals are <c>[a-zA-Z0-9-._~%!$&amp;'()+,;:@=]</c>, <c>*</c> is one or more of those or <c>*</c>
/// (no '/'), <c>**</c> zero or more of those or <c>*</c> or '/', <c>{name}</c> / <c>{name=…}</c> capture what they match.
/// Instead of a regex the template is a sequence of literals and globs matched left to right: a glob followed by '/' (or by
/// nothing) is greedy, as it cannot take '/', and a <c>**</c> (never followed by another glob) or a <c>*</c> followed by a
/// suffix takes everything up to the fixed literal tail, so no match backtracks or allocates.
/// </summary>
internal sealed class UriTemplate
{
    /// <summary>Envoy's kPatternMatchingMaxVariablesPerPath.</summary>
    public const int MaxVariables = 5;

    private const int MaxVariableNameLength = 16;

    private readonly Element[] _elements;

    private UriTemplate(string template, Element[] elements, string[] variables)
    {
        Template = template;
        _elements = elements;
        Variables = variables;
    }

    /// <summary>The template as configured.</summary>
    public string Template { get; }

    /// <summary>The variables' names in template order (the capture indexes a rewrite refers to).</summary>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>Envoy's isValidMatchPattern: null when the template is valid, else parsePathPatternSyntax's message.</summary>
    public static string? Validate(string template) => TryParse(template, out _);

    /// <summary>Compiles a template that passed <see cref="Validate"/>.</summary>
    public static UriTemplate FromValidated(string template)
        => TryParse(template, out var compiled) is { } error ? throw new ArgumentException(error, nameof(template)) : compiled!;

    /// <summary>Whether the whole path (without query or fragment) matches.</summary>
    public bool IsMatch(ReadOnlySpan<char> path)
    {
        Span<int> captures = stackalloc int[MaxVariables * 2];
        return TryMatch(path, captures);
    }

    /// <summary>Matches the whole path; on success <paramref name="captures"/> holds each variable's start and end.</summary>
    /// <param name="captures">At least twice <see cref="Variables"/>' count.</param>
    public bool TryMatch(ReadOnlySpan<char> path, Span<int> captures)
    {
        var position = 0;
        var elements = _elements;
        for (var i = 0; i < elements.Length; i++)
        {
            ref readonly var element = ref elements[i];
            switch (element.Kind)
            {
                case ElementKind.Literal:
                    if (!path[position..].StartsWith(element.Text, StringComparison.Ordinal))
                    {
                        return false;
                    }
                    position += element.Text!.Length;
                    break;
                case ElementKind.VariableStart:
                    captures[element.Variable * 2] = position;
                    break;
                case ElementKind.VariableEnd:
                    captures[(element.Variable * 2) + 1] = position;
                    break;
                default:
                    var textGlob = element.Kind == ElementKind.TextGlob;
                    int end;
                    if (element.TailLength >= 0)
                    {
                        // Only literals follow: the glob ends where the fixed tail begins.
                        end = path.Length - element.TailLength;
                        if (end < position + (textGlob ? 0 : 1) || !AllGlobChars(path[position..end], textGlob))
                        {
                            return false;
                        }
                    }
                    else
                    {
                        // A '*' followed by '/': it takes every segment character up to the next '/'.
                        var run = path[position..].IndexOfAnyExcept(GlobChars);
                        end = run < 0 ? path.Length : position + run;
                        if (end == position)
                        {
                            return false;
                        }
                    }
                    position = end;
                    break;
            }
        }
        return position == path.Length;
    }

    // Envoy's kLiteral (RFC 3986 pchar without '*'), and the glob classes (kLiteral plus '*': the
    // uri_template_match_on_asterisk behaviour, on by default since 1.35; plus '/' for '**').
    private const string LiteralCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()+,;:@=";
    private static readonly System.Buffers.SearchValues<char> LiteralChars = System.Buffers.SearchValues.Create(LiteralCharacters);
    private static readonly System.Buffers.SearchValues<char> RewriteLiteralChars = System.Buffers.SearchValues.Create(LiteralCharacters + "/");
    private static readonly System.Buffers.SearchValues<char> GlobChars = System.Buffers.SearchValues.Create(LiteralCharacters + "*");
    private static readonly System.Buffers.SearchValues<char> TextGlobChars = System.Buffers.SearchValues.Create(LiteralCharacters + "*/");

    private static bool AllGlobChars(ReadOnlySpan<char> text, bool textGlob)
        => text.IndexOfAnyExcept(textGlob ? TextGlobChars : GlobChars) < 0;

    /// <summary>Envoy's isValidLiteral: one or more literal characters.</summary>
    internal static bool IsValidLiteral(ReadOnlySpan<char> text) => text.Length > 0 && text.IndexOfAnyExcept(LiteralChars) < 0;

    /// <summary>Envoy's isValidRewriteLiteral: one or more literal characters or '/'.</summary>
    internal static bool IsValidRewriteLiteral(ReadOnlySpan<char> text) => text.Length > 0 && text.IndexOfAnyExcept(RewriteLiteralChars) < 0;

    /// <summary>Envoy's isValidVariableName: <c>[a-zA-Z][a-zA-Z0-9_]*</c>.</summary>
    internal static bool IsValidVariableName(ReadOnlySpan<char> name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }
        foreach (var c in name[1..])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }
        return true;
    }

    /// <returns>Null and the compiled template, or Envoy's error message.</returns>
    private static string? TryParse(string template, out UriTemplate? compiled)
    {
        compiled = null;
        // ^/[[:graph:]]*$: a leading '/' and only visible ASCII.
        if (template.Length == 0 || template[0] != '/' || template.AsSpan().ContainsAnyExceptInRange('!', '~'))
        {
            return $"Invalid pattern: \"{template}\"";
        }
        var segments = new List<Segment>();
        var suffix = string.Empty;
        var rest = template.AsSpan(1);
        while (!rest.IsEmpty)
        {
            Segment segment;
            string? error;
            if (rest[0] == '*')
            {
                segment = Segment.Glob(ParseOperator(ref rest));
            }
            else if (rest[0] == '{')
            {
                if ((error = ParseVariable(ref rest, out segment)) is not null)
                {
                    return error;
                }
            }
            else
            {
                if ((error = ParseLiteral(ref rest, out var literal)) is not null)
                {
                    return error;
                }
                segment = Segment.Literal(literal);
            }
            segments.Add(segment);
            if (rest.IsEmpty)
            {
                break;
            }
            if (rest is "/")
            {
                // A single trailing '/' is an empty last segment.
                segments.Add(Segment.Literal(string.Empty));
                break;
            }
            if (rest[0] == '/')
            {
                rest = rest[1..];
                continue;
            }
            // Not followed by '/': the rest is a suffix of the last segment.
            if ((error = ParseLiteral(ref rest, out suffix)) is not null)
            {
                return error;
            }
            if (!rest.IsEmpty)
            {
                return "Prefix match not supported.";
            }
            break;
        }

        // gatherCaptureNames, then validateNoOperatorAfterTextGlob, as Envoy orders them.
        var names = new List<string>();
        foreach (var segment in segments)
        {
            if (segment.Name is not { } name)
            {
                continue;
            }
            if (names.Count >= MaxVariables)
            {
                return $"Exceeded variable count limit ({MaxVariables})";
            }
            if (name.Length is < 1 or > MaxVariableNameLength)
            {
                return $"Invalid variable name length (length of \"{name}\" should be at least 1 and no more than {MaxVariableNameLength})";
            }
            if (names.Contains(name, StringComparer.Ordinal))
            {
                return $"Repeated variable name: \"{name}\"";
            }
            names.Add(name);
        }
        var seenTextGlob = false;
        foreach (var segment in segments)
        {
            if (segment.Parts is null)
            {
                continue;
            }
            if (segment.Name is not null && segment.Parts.Count == 0)
            {
                if (seenTextGlob)
                {
                    return "Implicit variable path glob after text glob.";
                }
                continue;
            }
            foreach (var part in segment.Parts)
            {
                if (part.Kind == ElementKind.Literal)
                {
                    continue;
                }
                if (seenTextGlob)
                {
                    return "Glob after text glob.";
                }
                seenTextGlob = part.Kind == ElementKind.TextGlob;
            }
        }

        compiled = new UriTemplate(template, Flatten(segments, suffix), [.. names]);
        return null;
    }

    /// <summary>The segments joined by '/' (toRegexPattern's order), adjacent literals merged, each glob's tail computed.</summary>
    private static Element[] Flatten(List<Segment> segments, string suffix)
    {
        var elements = new List<Element>();
        var literal = new System.Text.StringBuilder("/");
        void FlushLiteral()
        {
            if (literal.Length > 0)
            {
                elements.Add(new Element(ElementKind.Literal, literal.ToString(), -1));
                literal.Clear();
            }
        }
        void Add(Element part)
        {
            if (part.Kind == ElementKind.Literal)
            {
                literal.Append(part.Text);
                return;
            }
            FlushLiteral();
            elements.Add(part);
        }
        var variable = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            if (i > 0)
            {
                literal.Append('/');
            }
            var segment = segments[i];
            if (segment.Name is not null)
            {
                FlushLiteral();
                elements.Add(new Element(ElementKind.VariableStart, null, variable));
            }
            var parts = segment.Parts is { Count: > 0 } p ? p : [new Element(ElementKind.PathGlob, null, 0)];
            for (var j = 0; j < parts.Count; j++)
            {
                if (j > 0)
                {
                    literal.Append('/');
                }
                Add(parts[j]);
            }
            if (segment.Name is not null)
            {
                FlushLiteral();
                elements.Add(new Element(ElementKind.VariableEnd, null, variable++));
            }
        }
        literal.Append(suffix);
        FlushLiteral();

        // A '**' (only literals follow it) and a '*' followed by a suffix (a literal not starting with '/') end where the
        // literal tail begins; a '*' followed by '/' or by nothing is greedy.
        var result = elements.ToArray();
        for (var i = 0; i < result.Length; i++)
        {
            if (result[i].Kind is not (ElementKind.PathGlob or ElementKind.TextGlob))
            {
                continue;
            }
            var tail = 0;
            var onlyLiterals = true;
            string? next = null;
            for (var j = i + 1; j < result.Length; j++)
            {
                switch (result[j].Kind)
                {
                    case ElementKind.Literal:
                        next ??= result[j].Text;
                        tail += result[j].Text!.Length;
                        break;
                    case ElementKind.PathGlob or ElementKind.TextGlob:
                        onlyLiterals = false;
                        break;
                }
            }
            var anchored = result[i].Kind == ElementKind.TextGlob || (onlyLiterals && next is { Length: > 0 } && next[0] != '/');
            result[i] = result[i] with { TailLength = anchored ? tail : -1 };
        }
        return result;
    }

    /// <summary>Envoy's parseOperator: <c>**</c> or <c>*</c> (the caller saw the '*').</summary>
    private static ElementKind ParseOperator(ref ReadOnlySpan<char> rest)
    {
        if (rest.StartsWith("**"))
        {
            rest = rest[2..];
            return ElementKind.TextGlob;
        }
        rest = rest[1..];
        return ElementKind.PathGlob;
    }

    /// <summary>Envoy's parseLiteral: up to the next '/', which must be one or more literal characters.</summary>
    private static string? ParseLiteral(ref ReadOnlySpan<char> rest, out string literal)
    {
        var slash = rest.IndexOf('/');
        var text = slash < 0 ? rest : rest[..slash];
        literal = text.ToString();
        if (!IsValidLiteral(text))
        {
            return $"Invalid literal: \"{literal}\"";
        }
        rest = rest[text.Length..];
        return null;
    }

    /// <summary>Envoy's parseVariable: <c>{name}</c> or <c>{name=part/part…}</c>, each part a glob or a literal.</summary>
    private static string? ParseVariable(ref ReadOnlySpan<char> rest, out Segment variable)
    {
        variable = default;
        if (rest.Length < 2)
        {
            return $"Invalid variable: \"{rest}\"";
        }
        var close = rest[1..].IndexOf('}');
        if (close < 0)
        {
            return $"Unmatched variable bracket in \"{rest}\"";
        }
        var body = rest.Slice(1, close);
        var after = rest[(close + 2)..];
        var equals = body.IndexOf('=');
        var name = equals < 0 ? body : body[..equals];
        if (!IsValidVariableName(name))
        {
            return $"Invalid variable name: \"{name}\"";
        }
        var parts = new List<Element>();
        if (equals >= 0)
        {
            var item = body[(equals + 1)..];
            if (item.IsEmpty)
            {
                return "Empty variable match";
            }
            while (!item.IsEmpty)
            {
                if (item[0] == '*')
                {
                    parts.Add(new Element(ParseOperator(ref item), null, 0));
                }
                else
                {
                    if (ParseLiteral(ref item, out var literal) is { } error)
                    {
                        return error;
                    }
                    parts.Add(new Element(ElementKind.Literal, literal, 0));
                }
                if (!item.IsEmpty)
                {
                    if (item[0] != '/' || item.Length == 1)
                    {
                        return $"Invalid variable match: \"{item}\"";
                    }
                    item = item[1..];
                }
            }
        }
        variable = new Segment(name.ToString(), parts);
        rest = after;
        return null;
    }

    private enum ElementKind : byte
    {
        Literal,
        PathGlob,
        TextGlob,
        VariableStart,
        VariableEnd,
    }

    /// <param name="TailLength">For a glob matched up to the literal tail: the tail's length; -1 for a greedy '*'. For a variable marker, its index.</param>
    private readonly record struct Element(ElementKind Kind, string? Text, int TailLength)
    {
        public int Variable => TailLength;
    }

    /// <summary>One parsed path segment: a literal, a glob, or a variable (<see cref="Name"/>) with its parts (none: <c>*</c>).</summary>
    private readonly record struct Segment(string? Name, List<Element>? Parts)
    {
        public static Segment Literal(string text) => new(null, [new Element(ElementKind.Literal, text, 0)]);

        public static Segment Glob(ElementKind kind) => new(null, [new Element(kind, null, 0)]);
    }
}
