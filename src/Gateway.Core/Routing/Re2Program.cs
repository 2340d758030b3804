using System.Globalization;
using System.Text;

namespace Gateway.Routing;

/// <summary>
/// Our own parse of an RE2 pattern, for what RE2 itself checks before .NET sees the pattern: RE2's syntax errors
/// (with RE2's texts, e.g. <c>missing ): (abc</c>, <c>invalid perl operator: (?=</c>), its repetition limit (a count over
/// 1000, or nested counts whose product is over 1000: <c>invalid repetition size: {1,11}</c>), and an estimate of
/// <c>RE2::ProgramSize()</c>, the instruction count Envoy bounds with <c>re2.max_program_size.error_level</c> (100).
/// </summary>
/// <remarks>
/// The estimate follows RE2's compiler after simplification and flattening: a literal is one instruction per UTF-8
/// byte; a class is one byte range per ASCII range plus its UTF-8 byte-range tree; <c>*</c> adds nothing, <c>+</c>
/// and <c>?</c> one; a capture two; <c>x{n,m}</c> is expanded into n copies of x and m−n optional copies, which is why
/// nested counted repetitions grow multiplicatively; an unanchored pattern adds four (fail, match, the <c>.*?</c>
/// prefix), an anchored one two. RE2's own optimizations (common-prefix factoring of alternations, literal prefixes)
/// are not modelled, so the estimate can be a little higher than RE2's; Unicode classes use .NET's Unicode tables.
/// </remarks>
internal static class Re2Program
{
    /// <summary>Envoy's default <c>re2.max_program_size.error_level</c>.</summary>
    public const int DefaultMaxProgramSize = 100;

    /// <summary>RE2's <c>kMaxRepeat</c>: the largest repetition count, and the bound on nested counts' product.</summary>
    private const int MaxRepeat = 1000;

    /// <summary>Our own bound on group nesting, so a hostile pattern cannot exhaust the stack (far past any real pattern).</summary>
    private const int MaxNesting = 1000;

    private const int MaxRune = 0x10FFFF;

    /// <summary>Checks an RE2 pattern and estimates its program size.</summary>
    /// <returns>Null when RE2 would accept the pattern, else RE2's error text.</returns>
    public static string? Check(string pattern, out int programSize) => Check(pattern, out programSize, out _);

    /// <summary>
    /// Checks an RE2 pattern, estimates its program size, and gives the largest product of counts of counted
    /// repetitions nested in one another (1 when none are nested): what makes .NET's non-backtracking engine slow.
    /// </summary>
    public static string? Check(string pattern, out int programSize, out long nestedRepeatProduct)
    {
        nestedRepeatProduct = 1;
        var parser = new Parser(pattern);
        try
        {
            var top = parser.ParseTop();
            nestedRepeatProduct = parser.NestedRepeatProduct;
            // Anchored: no .*? prefix. RE2 also takes a literal prefix after '^' out of the program (it compares it
            // with memcmp), for two instructions instead.
            var size = !parser.AnchoredStart ? 4 + top.Size
                : parser.LiteralPrefixSize > 0 ? 4 + top.Size - parser.LiteralPrefixSize
                : 2 + top.Size;
            programSize = size > int.MaxValue ? int.MaxValue : (int)size;
            return null;
        }
        catch (Re2SyntaxException ex)
        {
            programSize = 0;
            return ex.Message;
        }
    }

    /// <summary>Envoy's error for a program over the error-level threshold (regex.cc).</summary>
    public static string ProgramSizeError(string pattern, int size, int max)
        => $"regex '{pattern}' RE2 program size of {size} > max program size of {max} set for the error level threshold. Increase configured max program size if necessary.";

    private sealed class Re2SyntaxException(string message) : Exception(message);

    /// <summary>What a parsed piece costs; <see cref="Set"/> is set when it is one character (a literal or a class), which RE2 merges in alternations.</summary>
    private readonly record struct Piece(long Size, RuneSet? Set, long Product, bool IsEmpty, bool CanRepeat)
    {
        public static Piece Empty => new(0, null, 1, true, false);

        /// <summary>A leading anchor: no instruction, but it may be repeated.</summary>
        public static Piece Anchor => new(0, null, 1, true, true);
    }

    private sealed class Parser(string pattern)
    {
        private readonly string _p = pattern;
        private int _i;
        private int _depth;
        private bool _foldCase;
        private bool _dotAll;
        private bool _multiLine;

        // Where the last '$' or '\z' ended and what it cost (removed when it ends the pattern).
        private int _trailingAnchorCost;
        private int _trailingAnchorEnd = -1;

        // Where the previous repetition operator started, for RE2's "bad repetition operator: **".
        private int _lastOpStart;

        public bool AnchoredStart { get; private set; }

        /// <summary>The largest product of nested counted repetitions' counts.</summary>
        public long NestedRepeatProduct { get; private set; } = 1;

        /// <summary>The instructions of the literal characters right after a leading anchor.</summary>
        public long LiteralPrefixSize { get; private set; }

        public Piece ParseTop()
        {
            var piece = ParseAlternation(top: true);
            if (_i < _p.Length)
            {
                // Only an unmatched ')' stops the top-level alternation early.
                throw new Re2SyntaxException("unexpected ): " + _p);
            }
            return piece;
        }

        private Piece ParseAlternation(bool top)
        {
            var branches = new List<Piece> { ParseConcatenation(top) };
            while (_i < _p.Length && _p[_i] == '|')
            {
                _i++;
                branches.Add(ParseConcatenation(top: false));
            }
            if (branches.Count == 1)
            {
                return branches[0];
            }
            if (top)
            {
                // An anchor in one branch anchors nothing.
                AnchoredStart = false;
            }

            // RE2 turns an alternation of single characters into one class.
            RuneSet? union = new RuneSet();
            long size = 0, product = 1;
            foreach (var branch in branches)
            {
                if (branch.Set is { } set && union is not null)
                {
                    union.Add(set);
                }
                else
                {
                    union = null;
                }
                size += branch.IsEmpty ? 1 : branch.Size;
                product = Math.Max(product, branch.Product);
            }
            return union is not null ? new Piece(union.Cost(), union, product, false, true) : new Piece(size, null, product, false, true);
        }

        private Piece ParseConcatenation(bool top)
        {
            long size = 0, product = 1;
            var count = 0;
            Piece last = Piece.Empty;
            var inPrefix = top;
            while (_i < _p.Length && _p[_i] != '|' && _p[_i] != ')')
            {
                var atStart = top && count == 0;
                var atom = ParseAtom(atStart);
                if (atom.IsEmpty && !atom.CanRepeat)
                {
                    // A flag group is transparent: a repetition after it repeats what came before it.
                    if (count > 0 && _i < _p.Length && IsRepetitionStart())
                    {
                        size -= last.Size;
                        last = ParseRepeat(last with { CanRepeat = true });
                        size += last.Size;
                        product = Math.Max(product, last.Product);
                    }
                    continue;
                }
                var piece = ParseRepeat(atom);
                if (inPrefix && AnchoredStart && !piece.IsEmpty)
                {
                    if (piece.Set is { IsSingleRune: true })
                    {
                        LiteralPrefixSize += piece.Size;
                    }
                    else
                    {
                        inPrefix = false;
                    }
                }
                size += piece.Size;
                product = Math.Max(product, piece.Product);
                last = piece;
                count++;
            }
            if (top && _i == _p.Length && _trailingAnchorEnd == _i)
            {
                // A trailing '$' or '\z' is an anchor RE2 removes from the program.
                size -= _trailingAnchorCost;
            }
            return count == 0 ? Piece.Empty : count == 1 ? last with { Size = size } : new Piece(size, null, product, false, true);
        }

        private static bool IsWord(ReadOnlySpan<char> name)
        {
            foreach (var c in name)
            {
                if (!char.IsLetterOrDigit(c) && c != '_')
                {
                    return false;
                }
            }
            return true;
        }

        private bool IsRepetitionStart()
        {
            var c = _p[_i];
            if (c is '*' or '+' or '?')
            {
                return true;
            }
            var saved = _i;
            var isCount = c == '{' && TryParseCount(out _, out _);
            _i = saved;
            return isCount;
        }

        private Piece ParseRepeat(Piece atom)
        {
            var repeated = false;
            while (_i < _p.Length)
            {
                var opStart = _i;
                int min, max;
                var c = _p[_i];
                if (c == '*')
                {
                    (min, max) = (0, -1);
                    _i++;
                }
                else if (c == '+')
                {
                    (min, max) = (1, -1);
                    _i++;
                }
                else if (c == '?')
                {
                    (min, max) = (0, 1);
                    _i++;
                }
                else if (c == '{' && TryParseCount(out min, out max))
                {
                    if (min > MaxRepeat || max > MaxRepeat || (max >= 0 && min > max))
                    {
                        throw new Re2SyntaxException("invalid repetition size: " + _p[opStart.._i]);
                    }
                }
                else
                {
                    break;
                }
                if (_i < _p.Length && _p[_i] == '?')
                {
                    // Non-greedy: the same program size.
                    _i++;
                }
                if (repeated)
                {
                    throw new Re2SyntaxException("bad repetition operator: " + _p[_lastOpStart.._i]);
                }
                if (!atom.CanRepeat)
                {
                    throw new Re2SyntaxException("no argument for repetition operator: " + _p[opStart.._i]);
                }
                _lastOpStart = opStart;
                repeated = true;
                atom = Repeat(atom, min, max, _p[opStart.._i]);
            }
            return atom;
        }

        private Piece Repeat(Piece x, int min, int max, string op)
        {
            var product = x.Product;
            if (min >= 2 || max >= 2)
            {
                // RE2's RepetitionWalker: 1000 divided by every enclosing count must stay above zero.
                var m = max < 0 ? min : max;
                product = m > 0 ? product * m : product;
                if (x.Product > 1)
                {
                    NestedRepeatProduct = Math.Max(NestedRepeatProduct, product);
                }
                if (product > MaxRepeat)
                {
                    throw new Re2SyntaxException("invalid repetition size: " + op);
                }
            }
            var s = x.Size;
            long size;
            if (max < 0)
            {
                // x* → one Alt folded away; x+ and x{n,} keep one more instruction.
                size = min == 0 ? s : (min - 1) * s + s + 1;
            }
            else
            {
                size = min * s + (max - min) * (s + 1);
            }
            return new Piece(size, null, product, false, false);
        }

        private bool TryParseCount(out int min, out int max)
        {
            // {n}, {n,} or {n,m}; anything else is a literal '{' in RE2.
            min = max = 0;
            var j = _i + 1;
            if (!ReadNumber(ref j, out min))
            {
                return false;
            }
            if (j < _p.Length && _p[j] == '}')
            {
                max = min;
                _i = j + 1;
                return true;
            }
            if (j >= _p.Length || _p[j] != ',')
            {
                return false;
            }
            j++;
            if (j < _p.Length && _p[j] == '}')
            {
                max = -1;
                _i = j + 1;
                return true;
            }
            if (!ReadNumber(ref j, out max) || j >= _p.Length || _p[j] != '}')
            {
                return false;
            }
            _i = j + 1;
            return true;
        }

        private bool ReadNumber(ref int j, out int value)
        {
            value = 0;
            var start = j;
            while (j < _p.Length && char.IsAsciiDigit(_p[j]))
            {
                // Saturate: anything past the limit is reported as too large anyway.
                value = Math.Min(value * 10 + (_p[j] - '0'), 100_000);
                j++;
            }
            return j > start;
        }

        private Piece ParseAtom(bool atStart)
        {
            var c = _p[_i];
            switch (c)
            {
                case '(':
                    return ParseGroup();
                case '[':
                    return Single(ParseClass());
                case '.':
                    _i++;
                    return Single(_dotAll ? RuneSet.All() : RuneSet.AllExcept('\n'));
                case '^':
                    _i++;
                    if (atStart && !_multiLine)
                    {
                        AnchoredStart = true;
                        return Piece.Anchor;
                    }
                    return EmptyWidth();
                case '$':
                    _i++;
                    return TrailingAnchor();
                case '\\':
                    return ParseEscape(atStart);
                case '*' or '+' or '?':
                case '{' when IsRepetitionStart():
                    {
                        // A repetition with nothing before it.
                        var start = _i;
                        if (c != '{' || !TryParseCount(out _, out _))
                        {
                            _i++;
                        }
                        throw new Re2SyntaxException("no argument for repetition operator: " + _p[start.._i]);
                    }
                default:
                    var rune = ReadRune();
                    return Literal(rune);
            }
        }

        private Piece TrailingAnchor()
        {
            _trailingAnchorCost = _depth == 0 && !_multiLine ? 1 : 0;
            _trailingAnchorEnd = _i;
            return EmptyWidth();
        }

        private static Piece EmptyWidth() => new(1, null, 1, false, true);

        private Piece Single(RuneSet set)
        {
            if (_foldCase)
            {
                set.AddCaseFolds();
            }
            return new Piece(set.Cost(), set, 1, false, true);
        }

        private Piece Literal(int rune)
        {
            if (_foldCase && RuneSet.HasCaseFolds(rune))
            {
                var set = new RuneSet();
                set.Add(rune, rune);
                return Single(set);
            }
            var literal = new RuneSet();
            literal.Add(rune, rune);
            return new Piece(Utf8Length(rune), literal, 1, false, true);
        }

        private int ReadRune()
        {
            var c = _p[_i];
            if (char.IsHighSurrogate(c) && _i + 1 < _p.Length && char.IsLowSurrogate(_p[_i + 1]))
            {
                _i += 2;
                return char.ConvertToUtf32(c, _p[_i - 1]);
            }
            _i++;
            return c;
        }

        private Piece ParseGroup()
        {
            var start = _i;
            if (++_depth > MaxNesting)
            {
                throw new Re2SyntaxException($"invalid nesting depth: more than {MaxNesting} nested groups");
            }
            _i++;
            var capture = true;
            var saved = (_foldCase, _dotAll, _multiLine);
            if (_i < _p.Length && _p[_i] == '?')
            {
                var named = string.CompareOrdinal(_p, _i, "?P<", 0, 3) == 0 ? 3
                    : string.CompareOrdinal(_p, _i, "?<", 0, 2) == 0 && _i + 2 < _p.Length && _p[_i + 2] is not ('=' or '!') ? 2 : 0;
                if (named > 0)
                {
                    // (?P<name>…), and (?<name>…) which RE2 accepts since 2023.
                    var close = _p.IndexOf('>', _i + named);
                    if (close < 0 || close == _i + named || !IsWord(_p.AsSpan((_i + named)..close)))
                    {
                        // A name is word characters (so never .NET's balancing group "(?<a-b>").
                        throw new Re2SyntaxException("invalid named capture group: " + _p[start..(close < 0 ? _p.Length : close + 1)]);
                    }
                    _i = close + 1;
                }
                else
                {
                    _i++;
                    capture = false;
                    var negated = false;
                    var sawFlag = false;
                    while (true)
                    {
                        if (_i >= _p.Length)
                        {
                            throw new Re2SyntaxException("missing ): " + _p);
                        }
                        var f = _p[_i];
                        if (f is 'i' or 'm' or 's' or 'U')
                        {
                            if (f == 'i')
                            {
                                _foldCase = !negated;
                            }
                            else if (f == 'm')
                            {
                                _multiLine = !negated;
                            }
                            else if (f == 's')
                            {
                                _dotAll = !negated;
                            }
                            sawFlag = true;
                            _i++;
                            continue;
                        }
                        if (f == '-' && !negated)
                        {
                            negated = true;
                            sawFlag = false;
                            _i++;
                            continue;
                        }
                        if (f == ')' && (sawFlag || !negated))
                        {
                            // (?flags): applies to the rest of the enclosing group.
                            _i++;
                            _depth--;
                            return Piece.Empty;
                        }
                        if (f == ':' && (sawFlag || !negated))
                        {
                            _i++;
                            break;
                        }
                        throw new Re2SyntaxException("invalid perl operator: " + _p[start..Math.Min(_p.Length, _i + 1)]);
                    }
                }
            }
            var inner = ParseAlternation(top: false);
            if (_i >= _p.Length || _p[_i] != ')')
            {
                throw new Re2SyntaxException("missing ): " + _p);
            }
            _i++;
            _depth--;
            (_foldCase, _dotAll, _multiLine) = saved;
            if (capture)
            {
                return new Piece(inner.Size + 2, null, inner.Product, false, true);
            }
            return inner.IsEmpty ? new Piece(0, null, 1, true, true) : inner with { CanRepeat = true };
        }

        private Piece ParseEscape(bool atStart)
        {
            if (_i + 1 >= _p.Length)
            {
                throw new Re2SyntaxException("trailing \\");
            }
            var c = _p[_i + 1];
            switch (c)
            {
                case 'A':
                    _i += 2;
                    if (atStart)
                    {
                        AnchoredStart = true;
                        return Piece.Anchor;
                    }
                    return EmptyWidth();
                case 'z':
                    _i += 2;
                    return TrailingAnchor();
                case 'b' or 'B':
                    _i += 2;
                    return EmptyWidth();
                case 'C':
                    _i += 2;
                    return new Piece(1, null, 1, false, true);
                case 'Q':
                    return ParseQuoted();
                default:
                    if (TryClassEscape(out var set))
                    {
                        return Single(set);
                    }
                    return Literal(ReadEscapedRune());
            }
        }

        private Piece ParseQuoted()
        {
            _i += 2;
            var end = _p.IndexOf(@"\E", _i, StringComparison.Ordinal);
            var stop = end < 0 ? _p.Length : end;
            long size = 0;
            var count = 0;
            Piece last = Piece.Empty;
            while (_i < stop)
            {
                last = Literal(ReadRune());
                size += last.Size;
                count++;
            }
            _i = end < 0 ? _p.Length : end + 2;
            return count == 0 ? Piece.Empty : count == 1 ? last : new Piece(size, null, 1, false, true);
        }

        /// <summary>\d \D \s \S \w \W and \p / \P; advances past the escape when it is one.</summary>
        private bool TryClassEscape(out RuneSet set)
        {
            var c = _p[_i + 1];
            set = new RuneSet();
            switch (c)
            {
                case 'd' or 'D':
                    set.Add('0', '9');
                    break;
                case 's' or 'S':
                    set.Add('\t', '\n');
                    set.Add('\f', '\r');
                    set.Add(' ', ' ');
                    break;
                case 'w' or 'W':
                    set.Add('0', '9');
                    set.Add('A', 'Z');
                    set.Add('_', '_');
                    set.Add('a', 'z');
                    break;
                case 'p' or 'P':
                    set = ParseUnicodeClass(c == 'P');
                    return true;
                default:
                    return false;
            }
            _i += 2;
            if (char.IsAsciiLetterUpper(c))
            {
                set = set.Negate();
            }
            return true;
        }

        private RuneSet ParseUnicodeClass(bool negated)
        {
            var start = _i;
            _i += 2;
            string name;
            if (_i < _p.Length && _p[_i] == '{')
            {
                var close = _p.IndexOf('}', _i);
                if (close < 0)
                {
                    throw new Re2SyntaxException("invalid character class range: " + _p[start..]);
                }
                name = _p[(_i + 1)..close];
                _i = close + 1;
            }
            else if (_i < _p.Length)
            {
                name = _p[_i].ToString();
                _i++;
            }
            else
            {
                throw new Re2SyntaxException("invalid character class range: " + _p[start..]);
            }
            if (name.StartsWith('^'))
            {
                negated = !negated;
                name = name[1..];
            }
            // Names .NET does not know (RE2's scripts) are left for the .NET parser to reject.
            var set = UnicodeCategories.Get(name) ?? new RuneSet();
            return negated ? set.Negate() : set;
        }

        private int ReadEscapedRune()
        {
            var c = _p[_i + 1];
            switch (c)
            {
                case 'a':
                    _i += 2;
                    return 7;
                case 'f':
                    _i += 2;
                    return '\f';
                case 't':
                    _i += 2;
                    return '\t';
                case 'n':
                    _i += 2;
                    return '\n';
                case 'r':
                    _i += 2;
                    return '\r';
                case 'v':
                    _i += 2;
                    return '\v';
                case 'x':
                    return ReadHexEscape();
                case >= '0' and <= '7' when c == '0' || (_i + 2 < _p.Length && char.IsAsciiDigit(_p[_i + 2])):
                    {
                        // Octal: \0, or \1-\7 followed by more digits; up to three digits.
                        var j = _i + 1;
                        var value = 0;
                        while (j < _p.Length && j < _i + 4 && _p[j] is >= '0' and <= '7')
                        {
                            value = value * 8 + (_p[j] - '0');
                            j++;
                        }
                        _i = j;
                        return value;
                    }
                default:
                    if (c < 0x80 && !char.IsAsciiLetterOrDigit(c))
                    {
                        // Escaped punctuation is itself.
                        _i += 2;
                        return c;
                    }
                    throw new Re2SyntaxException("invalid escape sequence: \\" + c);
            }
        }

        private int ReadHexEscape()
        {
            var start = _i;
            _i += 2;
            if (_i < _p.Length && _p[_i] == '{')
            {
                var close = _p.IndexOf('}', _i);
                if (close < 0 || close == _i + 1 || !int.TryParse(_p.AsSpan((_i + 1)..close), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) || code is < 0 or > MaxRune)
                {
                    throw new Re2SyntaxException("invalid escape sequence: " + _p[start..Math.Min(_p.Length, close < 0 ? _p.Length : close + 1)]);
                }
                _i = close + 1;
                return code;
            }
            if (_i + 2 <= _p.Length && Uri.IsHexDigit(_p[_i]) && Uri.IsHexDigit(_p[_i + 1]))
            {
                var code = (Uri.FromHex(_p[_i]) << 4) | Uri.FromHex(_p[_i + 1]);
                _i += 2;
                return code;
            }
            throw new Re2SyntaxException("invalid escape sequence: " + _p[start..Math.Min(_p.Length, _i + 2)]);
        }

        private RuneSet ParseClass()
        {
            var start = _i;
            _i++;
            var negated = false;
            if (_i < _p.Length && _p[_i] == '^')
            {
                negated = true;
                _i++;
            }
            var set = new RuneSet();
            var first = true;
            while (true)
            {
                if (_i >= _p.Length)
                {
                    throw new Re2SyntaxException("missing ]: " + _p[start..]);
                }
                var c = _p[_i];
                if (c == ']' && !first)
                {
                    _i++;
                    break;
                }
                first = false;
                if (c == '[' && _i + 1 < _p.Length && _p[_i + 1] == ':')
                {
                    var end = _p.IndexOf(":]", _i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        set.Add(PosixClass(_p[_i..(end + 2)]));
                        _i = end + 2;
                        continue;
                    }
                }
                if (c == '\\' && _i + 1 < _p.Length && TryClassEscape(out var escaped))
                {
                    set.Add(escaped);
                    continue;
                }
                var rangeStart = _i;
                var lo = ClassRune();
                var hi = lo;
                if (_i + 1 < _p.Length && _p[_i] == '-' && _p[_i + 1] != ']')
                {
                    _i++;
                    hi = ClassRune();
                    if (hi < lo)
                    {
                        throw new Re2SyntaxException("invalid character class range: " + _p[rangeStart.._i]);
                    }
                }
                set.Add(lo, hi);
            }
            return negated ? set.Negate() : set;
        }

        private int ClassRune()
        {
            if (_i >= _p.Length)
            {
                throw new Re2SyntaxException("missing ]: " + _p);
            }
            if (_p[_i] == '\\')
            {
                if (_i + 1 >= _p.Length)
                {
                    throw new Re2SyntaxException("trailing \\");
                }
                return ReadEscapedRune();
            }
            return ReadRune();
        }

        private static RuneSet PosixClass(string text)
        {
            var name = text[2..^2];
            var negated = name.StartsWith('^');
            var set = new RuneSet();
            switch (negated ? name[1..] : name)
            {
                case "alnum": set.Add('0', '9'); set.Add('A', 'Z'); set.Add('a', 'z'); break;
                case "alpha": set.Add('A', 'Z'); set.Add('a', 'z'); break;
                case "ascii": set.Add(0, 0x7F); break;
                case "blank": set.Add('\t', '\t'); set.Add(' ', ' '); break;
                case "cntrl": set.Add(0, 0x1F); set.Add(0x7F, 0x7F); break;
                case "digit": set.Add('0', '9'); break;
                case "graph": set.Add('!', '~'); break;
                case "lower": set.Add('a', 'z'); break;
                case "print": set.Add(' ', '~'); break;
                case "punct": set.Add('!', '/'); set.Add(':', '@'); set.Add('[', '`'); set.Add('{', '~'); break;
                case "space": set.Add('\t', '\r'); set.Add(' ', ' '); break;
                case "upper": set.Add('A', 'Z'); break;
                case "word": set.Add('0', '9'); set.Add('A', 'Z'); set.Add('_', '_'); set.Add('a', 'z'); break;
                case "xdigit": set.Add('0', '9'); set.Add('A', 'F'); set.Add('a', 'f'); break;
                default: throw new Re2SyntaxException("invalid character class range: " + text);
            }
            return negated ? set.Negate() : set;
        }
    }

    private static int Utf8Length(int rune) => rune < 0x80 ? 1 : rune < 0x800 ? 2 : rune < 0x10000 ? 3 : 4;

    /// <summary>A set of code points as sorted, disjoint ranges, with RE2's instruction count for matching it.</summary>
    private sealed class RuneSet
    {
        private List<(int Lo, int Hi)> _ranges = [];

        public static RuneSet All()
        {
            var set = new RuneSet();
            set.Add(0, MaxRune);
            return set;
        }

        public static RuneSet AllExcept(int rune) => Single(rune).Negate();

        private static RuneSet Single(int rune)
        {
            var set = new RuneSet();
            set.Add(rune, rune);
            return set;
        }

        public void Add(int lo, int hi) => _ranges.Add((lo, hi));

        public bool IsSingleRune => Normalized() is [var only] && only.Lo == only.Hi;

        public void Add(RuneSet other) => _ranges.AddRange(other._ranges);

        private List<(int Lo, int Hi)> Normalized()
        {
            _ranges.Sort();
            var merged = new List<(int Lo, int Hi)>(_ranges.Count);
            foreach (var (lo, hi) in _ranges)
            {
                if (merged.Count > 0 && lo <= merged[^1].Hi + 1)
                {
                    merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, hi));
                }
                else
                {
                    merged.Add((lo, hi));
                }
            }
            _ranges = merged;
            return merged;
        }

        public RuneSet Negate()
        {
            var result = new RuneSet();
            var next = 0;
            foreach (var (lo, hi) in Normalized())
            {
                if (lo > next)
                {
                    result.Add(next, lo - 1);
                }
                next = hi + 1;
            }
            if (next <= MaxRune)
            {
                result.Add(next, MaxRune);
            }
            return result;
        }

        public static bool HasCaseFolds(int rune)
            => rune <= 0xFFFF && (char.ToUpperInvariant((char)rune) != rune || char.ToLowerInvariant((char)rune) != rune || rune is 'k' or 'K' or 's' or 'S');

        /// <summary>Adds every case variant (RE2's (?i)): the other ASCII case, K→U+212A, S→U+017F, and .NET's invariant mappings.</summary>
        public void AddCaseFolds()
        {
            var budget = 5000;
            foreach (var (lo, hi) in Normalized().ToArray())
            {
                for (var r = lo; r <= hi && r <= 0xFFFF && budget-- > 0; r++)
                {
                    var upper = char.ToUpperInvariant((char)r);
                    var lower = char.ToLowerInvariant((char)r);
                    if (upper != r)
                    {
                        Add(upper, upper);
                    }
                    if (lower != r)
                    {
                        Add(lower, lower);
                    }
                    if (r is 'k' or 'K')
                    {
                        Add(0x212A, 0x212A);
                    }
                    else if (r is 's' or 'S')
                    {
                        Add(0x17F, 0x17F);
                    }
                }
            }
        }

        /// <summary>RE2's instruction count: one byte range per ASCII range (upper case dropped when every letter comes in both cases), plus the UTF-8 tree.</summary>
        public long Cost()
        {
            var ranges = Normalized();
            Span<bool> ascii = stackalloc bool[128];
            long cost = 0;
            var coversRest = false;
            var utf8 = new Utf8Tree();
            foreach (var (lo, hi) in ranges)
            {
                for (var r = lo; r <= Math.Min(hi, 0x7F); r++)
                {
                    ascii[r] = true;
                }
                if (hi >= 0x80)
                {
                    var from = Math.Max(lo, 0x80);
                    if (from == 0x80 && hi == MaxRune)
                    {
                        coversRest = true;
                    }
                    else
                    {
                        utf8.Add(from, hi);
                    }
                }
            }
            var foldsAscii = true;
            for (var c = 'a'; c <= 'z'; c++)
            {
                if (ascii[c] != ascii[c - 32])
                {
                    foldsAscii = false;
                }
            }
            var inRange = false;
            for (var r = 0; r < 128; r++)
            {
                var present = ascii[r] && !(foldsAscii && r is >= 'A' and <= 'Z');
                if (present && !inRange)
                {
                    cost++;
                }
                // Folded upper case letters are skipped without splitting a range.
                if (!(foldsAscii && r is >= 'A' and <= 'Z' && ascii[r]))
                {
                    inRange = present;
                }
            }
            // RE2's special form of 0x80-0x10FFFF: three lead bytes and three shared continuation bytes.
            cost += coversRest ? 6 : utf8.Count;
            return cost;
        }
    }

    /// <summary>
    /// The byte-range instructions RE2's forward UTF-8 compiler makes: the sequences share their leading bytes (RE2
    /// builds a trie of them) and their last byte (cached by range).
    /// </summary>
    private sealed class Utf8Tree
    {
        private readonly HashSet<long> _prefixes = [];
        private readonly HashSet<int> _lastBytes = [];

        public int Count => _prefixes.Count + _lastBytes.Count;

        public void Add(int lo, int hi)
        {
            // Split at the encoded-length boundaries first.
            int[] limits = [0x7FF, 0xFFFF, MaxRune];
            foreach (var limit in limits)
            {
                if (lo > hi)
                {
                    return;
                }
                if (lo <= limit)
                {
                    AddSameLength(lo, Math.Min(hi, limit));
                    lo = limit + 1;
                }
            }
        }

        private void AddSameLength(int lo, int hi)
        {
            var n = Utf8Length(lo);
            for (var i = 1; i < n; i++)
            {
                var m = (1 << (6 * i)) - 1;
                if ((lo & ~m) != (hi & ~m))
                {
                    if ((lo & m) != 0)
                    {
                        AddSameLength(lo, lo | m);
                        AddSameLength((lo | m) + 1, hi);
                        return;
                    }
                    if ((hi & m) != m)
                    {
                        AddSameLength(lo, (hi & ~m) - 1);
                        AddSameLength(hi & ~m, hi);
                        return;
                    }
                }
            }
            Span<byte> los = stackalloc byte[4];
            Span<byte> his = stackalloc byte[4];
            new Rune(IsSurrogate(lo) ? 0xFFFD : lo).EncodeToUtf8(los);
            new Rune(IsSurrogate(hi) ? 0xFFFD : hi).EncodeToUtf8(his);
            long path = n;
            for (var j = 0; j < n - 1; j++)
            {
                path = (path << 16) | ((long)los[j] << 8) | his[j];
                _prefixes.Add(path);
            }
            _lastBytes.Add((los[n - 1] << 8) | his[n - 1]);
        }

        private static bool IsSurrogate(int rune) => rune is >= 0xD800 and <= 0xDFFF;
    }

    /// <summary>The Unicode general categories as rune sets, built once on first use of <c>\p</c>.</summary>
    private static class UnicodeCategories
    {
        private static readonly Lazy<Dictionary<string, List<(int Lo, int Hi)>>> Table = new(Build);

        public static RuneSet? Get(string name)
        {
            if (name == "Any")
            {
                return RuneSet.All();
            }
            if (!Table.Value.TryGetValue(name, out var ranges))
            {
                return null;
            }
            var set = new RuneSet();
            foreach (var (lo, hi) in ranges)
            {
                set.Add(lo, hi);
            }
            return set;
        }

        private static Dictionary<string, List<(int Lo, int Hi)>> Build()
        {
            var table = new Dictionary<string, List<(int Lo, int Hi)>>(StringComparer.Ordinal);
            for (var r = 0; r <= MaxRune; r++)
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(r);
                var code = Abbreviation(category);
                Append(table, code, r);
                Append(table, code[..1], r);
            }
            return table;
        }

        private static void Append(Dictionary<string, List<(int Lo, int Hi)>> table, string name, int rune)
        {
            if (!table.TryGetValue(name, out var list))
            {
                table[name] = list = [];
            }
            if (list.Count > 0 && list[^1].Hi == rune - 1)
            {
                list[^1] = (list[^1].Lo, rune);
            }
            else
            {
                list.Add((rune, rune));
            }
        }

        private static string Abbreviation(UnicodeCategory category) => category switch
        {
            UnicodeCategory.UppercaseLetter => "Lu",
            UnicodeCategory.LowercaseLetter => "Ll",
            UnicodeCategory.TitlecaseLetter => "Lt",
            UnicodeCategory.ModifierLetter => "Lm",
            UnicodeCategory.OtherLetter => "Lo",
            UnicodeCategory.NonSpacingMark => "Mn",
            UnicodeCategory.SpacingCombiningMark => "Mc",
            UnicodeCategory.EnclosingMark => "Me",
            UnicodeCategory.DecimalDigitNumber => "Nd",
            UnicodeCategory.LetterNumber => "Nl",
            UnicodeCategory.OtherNumber => "No",
            UnicodeCategory.SpaceSeparator => "Zs",
            UnicodeCategory.LineSeparator => "Zl",
            UnicodeCategory.ParagraphSeparator => "Zp",
            UnicodeCategory.Control => "Cc",
            UnicodeCategory.Format => "Cf",
            UnicodeCategory.Surrogate => "Cs",
            UnicodeCategory.PrivateUse => "Co",
            UnicodeCategory.ConnectorPunctuation => "Pc",
            UnicodeCategory.DashPunctuation => "Pd",
            UnicodeCategory.OpenPunctuation => "Ps",
            UnicodeCategory.ClosePunctuation => "Pe",
            UnicodeCategory.InitialQuotePunctuation => "Pi",
            UnicodeCategory.FinalQuotePunctuation => "Pf",
            UnicodeCategory.OtherPunctuation => "Po",
            UnicodeCategory.MathSymbol => "Sm",
            UnicodeCategory.CurrencySymbol => "Sc",
            UnicodeCategory.ModifierSymbol => "Sk",
            UnicodeCategory.OtherSymbol => "So",
            _ => "Cn",
        };
    }
}
