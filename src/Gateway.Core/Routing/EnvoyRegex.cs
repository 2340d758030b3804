using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Routing;

/// <summary>
/// An Envoy <c>safe_regex</c> compiled for .NET. Envoy runs RE2 with <c>RE2::FullMatch</c>, so the whole input must
/// match; the pattern is anchored with <c>\A(?:…)\z</c> here. RE2 is linear-time; so is .NET's non-backtracking
/// engine, which is the only one used. Before .NET sees a pattern, <see cref="Re2Program"/> applies RE2's own checks
/// and Envoy's program-size bound (<c>re2.max_program_size.error_level</c>, 100): the non-backtracking engine is
/// linear in the input but its cost per character grows with the expanded pattern (nested counted repetitions make
/// it seconds per request), which is what the bound keeps small.
/// </summary>
internal sealed class EnvoyRegex
{
    private readonly Regex _regex;

    private EnvoyRegex(string pattern, Regex regex, int programSize)
    {
        Pattern = pattern;
        _regex = regex;
        ProgramSize = programSize;
    }

    /// <summary>The pattern as written in the configuration (RE2 syntax).</summary>
    public string Pattern { get; }

    /// <summary>The estimate of RE2's program size (see <see cref="Re2Program"/>); -1 when built by <see cref="FromValidated"/>.</summary>
    public int ProgramSize { get; }

    /// <summary>Compiles an RE2 pattern.</summary>
    /// <param name="pattern">The RE2 pattern.</param>
    /// <param name="where">Where the pattern is in the configuration, for the error message.</param>
    /// <exception cref="ArgumentException">The pattern does not compile, or its program is over the bound.</exception>
    public static EnvoyRegex Compile(string pattern, string where)
        => TryCompile(pattern, out var regex, out var error) ? regex : throw new ArgumentException($"{where}: {error}");

    /// <summary>Compiles an RE2 pattern, or says why not (without the location), as Envoy does: RE2's error text or Envoy's program-size message.</summary>
    public static bool TryCompile(string pattern, [NotNullWhen(true)] out EnvoyRegex? regex, [NotNullWhen(false)] out string? error)
    {
        if (TryCreate(pattern, fullMatch: true, Re2Program.DefaultMaxProgramSize, Regex.InfiniteMatchTimeout, out var compiled, out var size, out error))
        {
            regex = new EnvoyRegex(pattern, compiled, size);
            return true;
        }
        regex = null;
        return false;
    }

    /// <summary>
    /// Compiles a pattern that passed <see cref="Validate"/> (the config validator's check): RE2's checks and the
    /// program-size bound are not repeated, only the translation and the non-backtracking build remain.
    /// </summary>
    /// <exception cref="ArgumentException">The pattern was not validated and .NET refuses it.</exception>
    public static EnvoyRegex FromValidated(string pattern)
        => new(pattern, new Regex(@"\A(?:" + Re2Syntax.ToDotNet(pattern) + @")\z", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking), programSize: -1);

    /// <summary>
    /// Checks an RE2 pattern as <see cref="TryCompile"/> does, without building the non-backtracking automaton (a few
    /// milliseconds per pattern, which the config validator would otherwise pay a second time): .NET's parser runs on
    /// the interpreter's options, and what the non-backtracking engine alone refuses (lookarounds, backreferences,
    /// atomic and balancing groups, conditionals) is already refused by <see cref="Re2Program"/>, as RE2 refuses it.
    /// </summary>
    /// <returns>Null when the pattern compiles, else the error <see cref="TryCompile"/> would give.</returns>
    public static string? Validate(string pattern)
    {
        if (Re2Program.Check(pattern, out var size) is { } error)
        {
            return error;
        }
        if (size > Re2Program.DefaultMaxProgramSize)
        {
            return Re2Program.ProgramSizeError(pattern, size, Re2Program.DefaultMaxProgramSize);
        }
        try
        {
            _ = new Regex(@"\A(?:" + Re2Syntax.ToDotNet(pattern) + @")\z", RegexOptions.CultureInvariant);
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"invalid regex '{pattern}': {ex.Message}";
        }
    }

    /// <summary>
    /// Builds the .NET regex for an RE2 pattern on the non-backtracking engine: RE2's checks first, then the
    /// program-size bound, then .NET's parser. <paramref name="error"/> is RE2's error text, Envoy's program-size
    /// message, or .NET's reason for what only .NET refuses.
    /// </summary>
    /// <param name="pattern">The RE2 pattern.</param>
    /// <param name="fullMatch">Anchor at both ends (RE2::FullMatch) rather than search (RE2::PartialMatch).</param>
    /// <param name="maxProgramSize">The bound on the estimated program size.</param>
    /// <param name="matchTimeout">.NET's match timeout (checked between characters, so only a coarse bound).</param>
    /// <param name="maxNestedRepeatProduct">The bound on nested counted repetitions (see <see cref="Re2Program.Check(string, out int, out long)"/>); RE2's own is 1000.</param>
    public static bool TryCreate(string pattern, bool fullMatch, int maxProgramSize, TimeSpan matchTimeout,
        [NotNullWhen(true)] out Regex? regex, out int programSize, [NotNullWhen(false)] out string? error, long maxNestedRepeatProduct = long.MaxValue)
    {
        regex = null;
        error = Re2Program.Check(pattern, out programSize, out var nested);
        if (error is not null)
        {
            return false;
        }
        if (programSize > maxProgramSize)
        {
            error = Re2Program.ProgramSizeError(pattern, programSize, maxProgramSize);
            return false;
        }
        if (nested > maxNestedRepeatProduct)
        {
            error = $"regex '{pattern}' nests counted repetitions {nested} deep, over {maxNestedRepeatProduct}";
            return false;
        }
        try
        {
            var translated = Re2Syntax.ToDotNet(pattern);
            regex = new Regex(fullMatch ? @"\A(?:" + translated + @")\z" : translated,
                RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, matchTimeout);
            return true;
        }
        catch (ArgumentException ex)
        {
            error = $"invalid regex '{pattern}': {ex.Message}";
        }
        catch (NotSupportedException)
        {
            // Unreachable for what Re2Program accepts; kept so no pattern ever reaches a backtracking engine.
            error = $"invalid regex '{pattern}': it uses a construct RE2 does not support";
        }
        return false;
    }

    /// <summary>True when the whole of <paramref name="input"/> matches.</summary>
    public bool IsFullMatch(ReadOnlySpan<char> input) => _regex.IsMatch(input);
}

/// <summary>
/// Rewrites the RE2 constructs whose .NET spelling or meaning differs: <c>(?P&lt;name&gt;</c>, <c>\pL</c>,
/// <c>\p{^X}</c>, <c>\x{…}</c>, <c>\Q…\E</c>, POSIX classes such as <c>[[:alpha:]]</c>, and the ASCII-only
/// <c>\d</c>, <c>\w</c>, <c>\s</c> (Unicode-aware in .NET).
/// </summary>
internal static class Re2Syntax
{
    private const string Digit = "0-9";
    private const string Word = "0-9A-Za-z_";
    private const string Space = @"\t\n\f\r ";

    /// <summary>Translates an RE2 pattern to an equivalent .NET pattern.</summary>
    /// <exception cref="ArgumentException">The pattern uses an RE2 construct that has no .NET equivalent here.</exception>
    public static string ToDotNet(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                i = TranslateEscape(pattern, i, sb, inClass: false);
            }
            else if (c == '[')
            {
                i = TranslateClass(pattern, i, sb);
            }
            else if (c == '(' && string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0)
            {
                // RE2's Python-style named group.
                sb.Append("(?<");
                i += 4;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    private static int TranslateClass(string pattern, int i, StringBuilder sb)
    {
        sb.Append('[');
        i++;
        if (i < pattern.Length && pattern[i] == '^')
        {
            sb.Append('^');
            i++;
        }
        if (i < pattern.Length && pattern[i] == ']')
        {
            // A leading ']' is a literal in RE2.
            sb.Append(@"\]");
            i++;
        }
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c == ']')
            {
                sb.Append(']');
                return i + 1;
            }
            if (c == '\\')
            {
                i = TranslateEscape(pattern, i, sb, inClass: true);
                continue;
            }
            if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
            {
                var end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                if (end > 0)
                {
                    sb.Append(PosixClass(pattern[(i + 2)..end]));
                    i = end + 2;
                    continue;
                }
            }
            if (c == '[')
            {
                // Literal in RE2; escaped so .NET never reads "-[" as class subtraction.
                sb.Append(@"\[");
                i++;
                continue;
            }
            sb.Append(c);
            i++;
        }
        // Unterminated class: leave it for the .NET parser to report.
        return i;
    }

    private static int TranslateEscape(string pattern, int i, StringBuilder sb, bool inClass)
    {
        if (i + 1 >= pattern.Length)
        {
            sb.Append('\\');
            return i + 1;
        }
        var next = pattern[i + 1];
        switch (next)
        {
            case 'd':
                sb.Append(inClass ? Digit : "[" + Digit + "]");
                return i + 2;
            case 'w':
                sb.Append(inClass ? Word : "[" + Word + "]");
                return i + 2;
            case 's':
                sb.Append(inClass ? Space : "[" + Space + "]");
                return i + 2;
            case 'D' when !inClass:
                sb.Append("[^" + Digit + "]");
                return i + 2;
            case 'W' when !inClass:
                sb.Append("[^" + Word + "]");
                return i + 2;
            case 'S' when !inClass:
                sb.Append("[^" + Space + "]");
                return i + 2;
            case 'p':
            case 'P':
                return TranslateUnicodeClass(pattern, i, sb, negated: next == 'P');
            case 'x' when i + 2 < pattern.Length && pattern[i + 2] == '{':
                return TranslateHexEscape(pattern, i, sb);
            case 'Q':
                return TranslateQuoted(pattern, i, sb);
            default:
                sb.Append('\\').Append(next);
                return i + 2;
        }
    }

    private static int TranslateUnicodeClass(string pattern, int i, StringBuilder sb, bool negated)
    {
        string name;
        int next;
        if (i + 2 < pattern.Length && pattern[i + 2] == '{')
        {
            var close = pattern.IndexOf('}', i + 3);
            if (close < 0)
            {
                throw new ArgumentException("missing '}' after \\p{");
            }
            name = pattern[(i + 3)..close];
            next = close + 1;
        }
        else if (i + 2 < pattern.Length)
        {
            name = pattern[(i + 2)..(i + 3)];
            next = i + 3;
        }
        else
        {
            throw new ArgumentException("missing class name after \\p");
        }
        if (name.StartsWith('^'))
        {
            negated = !negated;
            name = name[1..];
        }
        sb.Append(negated ? @"\P{" : @"\p{").Append(name).Append('}');
        return next;
    }

    private static int TranslateHexEscape(string pattern, int i, StringBuilder sb)
    {
        var close = pattern.IndexOf('}', i + 3);
        if (close < 0 || !int.TryParse(pattern.AsSpan((i + 3)..close), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw new ArgumentException("bad \\x{...} escape");
        }
        if (code > 0xFFFF)
        {
            throw new ArgumentException("\\x{...} beyond U+FFFF is not supported");
        }
        sb.Append(@"\u").Append(code.ToString("X4", CultureInfo.InvariantCulture));
        return close + 1;
    }

    private static int TranslateQuoted(string pattern, int i, StringBuilder sb)
    {
        var start = i + 2;
        var end = pattern.IndexOf(@"\E", start, StringComparison.Ordinal);
        var literal = end < 0 ? pattern.AsSpan(start) : pattern.AsSpan(start, end - start);
        foreach (var ch in literal)
        {
            // Escaping every non-alphanumeric is valid both inside and outside a .NET class.
            if (!char.IsAsciiLetterOrDigit(ch))
            {
                sb.Append('\\');
            }
            sb.Append(ch);
        }
        return end < 0 ? pattern.Length : end + 2;
    }

    private static string PosixClass(string name) => name switch
    {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => @"\x00-\x7F",
        "blank" => @"\t ",
        "cntrl" => @"\x00-\x1F\x7F",
        "digit" => "0-9",
        "graph" => "!-~",
        "lower" => "a-z",
        "print" => " -~",
        "punct" => @"!-/:-@\[-`{-~",
        "space" => @"\t\n\v\f\r ",
        "upper" => "A-Z",
        "word" => Word,
        "xdigit" => "0-9A-Fa-f",
        _ when name.StartsWith('^') => throw new ArgumentException($"negated POSIX class [:{name}:] is not supported"),
        _ => throw new ArgumentException($"unknown POSIX class [:{name}:]"),
    };
}
