using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gateway.Configuration;

/// <summary>
/// A light document tree read straight from YamlDotNet's parser events. YamlDotNet's own
/// representation model hashes every key into dictionaries and costs three to four times the
/// parse itself (10,000 routes: ~300 ms vs ~80 ms), which is start-up time on big configs.
/// An alias is the anchored node itself, so the tree is a DAG; <see cref="Size"/> and
/// <see cref="Height"/> say what it is once aliases are expanded, which is what binding walks.
/// </summary>
internal abstract class ConfigNode
{
    protected ConfigNode(Mark start)
        : this((int)start.Line, (int)start.Column)
    {
    }

    /// <summary>A node at no position in a text (line 0): one read off the wire, located by its field path only.</summary>
    protected ConfigNode(int line, int column)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }

    /// <summary>Nodes in this subtree with aliases expanded (1 for a scalar).</summary>
    public long Size { get; protected set; } = 1;

    /// <summary>Levels of mappings and sequences in this subtree with aliases expanded (0 for a scalar).</summary>
    public int Height { get; protected set; }

    protected void AddChild(ConfigNode child)
    {
        Size += child.Size;
        Height = Math.Max(Height, child.Height + 1);
    }
}

/// <summary>A scalar: every value is text until the binder reads it as a field's type.</summary>
internal sealed class ConfigScalar : ConfigNode
{
    public ConfigScalar(Mark start, string value, ScalarStyle style, TagName tag)
        : base(start)
    {
        Value = value;
        IsNull = tag.IsEmpty && style is ScalarStyle.Plain or ScalarStyle.Any && value is "" or "~" or "null" or "Null" or "NULL";
        IsPlain = tag.IsEmpty && style is ScalarStyle.Plain or ScalarStyle.Any;
        IsIgnored = !tag.IsEmpty && tag.Value == "!ignore";
    }

    /// <summary>A value read off the wire: a string (<paramref name="plain"/> false, never a bool, number or null) or the text of a number, bool or null.</summary>
    public ConfigScalar(string value, bool plain)
        : base(0, 0)
    {
        Value = value;
        IsPlain = plain;
        IsNull = plain && value == "null";
    }

    public string Value { get; }

    /// <summary>True for an unquoted, untagged <c>~</c>, <c>null</c> or empty value (Envoy reads <c>! null</c> as the string).</summary>
    public bool IsNull { get; }

    /// <summary>True for an unquoted, untagged scalar: the only kind YAML may read as a bool or a number.</summary>
    public bool IsPlain { get; }

    /// <summary>True for a key tagged <c>!ignore</c>: Envoy drops that entry (a place to define anchors).</summary>
    public bool IsIgnored { get; }
}

/// <summary>A mapping, in document order.</summary>
internal sealed class ConfigMapping : ConfigNode
{
    public ConfigMapping(Mark start)
        : base(start) => Height = 1;

    /// <summary>A mapping read off the wire.</summary>
    public ConfigMapping()
        : base(0, 0) => Height = 1;

    public List<KeyValuePair<ConfigNode, ConfigNode>> Entries { get; } = [];

    public void Add(ConfigNode key, ConfigNode value)
    {
        Entries.Add(new(key, value));
        AddChild(key);
        AddChild(value);
    }

    /// <summary>The value of a plain string key, or null.</summary>
    public ConfigNode? Get(string key)
    {
        foreach (var (k, v) in Entries)
        {
            if (k is ConfigScalar scalar && scalar.Value == key)
            {
                return v;
            }
        }
        return null;
    }
}

/// <summary>A sequence.</summary>
internal sealed class ConfigSequence : ConfigNode
{
    public ConfigSequence(Mark start)
        : base(start) => Height = 1;

    /// <summary>A sequence read off the wire.</summary>
    public ConfigSequence()
        : base(0, 0) => Height = 1;

    public List<ConfigNode> Items { get; } = [];

    public void Add(ConfigNode item)
    {
        Items.Add(item);
        AddChild(item);
    }
}

/// <summary>
/// Reads one YAML (or JSON) document into a <see cref="ConfigNode"/> tree. Whatever the text, it
/// returns a tree or config errors: the parser's own exceptions become errors with their position,
/// nesting is bounded (the reader and the binder recurse) and so is alias expansion (binding walks
/// every expanded node).
/// </summary>
internal sealed class ConfigTreeReader
{
    /// <summary>Levels of nested mappings and sequences allowed: the recursion limit of protobuf's JSON parser, which Envoy loads every config through.</summary>
    public const int MaxDepth = 100;

    /// <summary>Nodes that aliases may add to a document once expanded; a few kilobytes of aliases can otherwise expand to billions.</summary>
    public const long MaxAliasNodes = 100_000;

    private readonly Parser _parser;
    private readonly Scanner _scanner;
    private readonly string _source;
    private readonly ConfigErrorList _errors;
    private readonly Dictionary<string, ConfigNode> _anchors = new(StringComparer.Ordinal);
    private long _aliasNodes;

    private ConfigTreeReader(string text, string source, ConfigErrorList errors)
    {
        _scanner = new Scanner(new StringReader(text));
        _parser = new Parser(_scanner);
        _source = source;
        _errors = errors;
    }

    /// <summary>The root node, or null for an empty document or one that cannot be read; problems go to <paramref name="errors"/>.</summary>
    public static ConfigNode? Read(string text, string source, ConfigErrorList errors)
        => new ConfigTreeReader(text, source, errors).Read();

    private ConfigNode? Read()
    {
        try
        {
            _parser.Consume<StreamStart>();
            if (_parser.Accept<StreamEnd>(out _))
            {
                return null;
            }
            _parser.Consume<DocumentStart>();
            var root = ReadNode(level: 0);
            _parser.Consume<DocumentEnd>();
            if (_parser.Accept<DocumentStart>(out var second))
            {
                Error(second.Start, "a bootstrap file must hold exactly one YAML document");
            }
            return root;
        }
        catch (LimitExceededException ex)
        {
            Error(ex.Start, ex.Message);
            return null;
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
            Error(ex.Start, $"unable to parse YAML/JSON: {message}");
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // YamlDotNet's scanner throws InvalidOperationException (and others) on some malformed
            // input; like Envoy ("Unexpected YAML exception"), any parser failure is a config error.
            Error(_scanner.CurrentPosition, $"unable to parse YAML/JSON: unexpected YAML parser error ({ex.GetType().Name}: {ex.Message})");
            return null;
        }
    }

    /// <summary>Reads the node at <paramref name="level"/> (the number of mappings and sequences around it).</summary>
    private ConfigNode ReadNode(int level)
    {
        if (_parser.TryConsume<Scalar>(out var scalar))
        {
            return Anchor(new ConfigScalar(scalar.Start, scalar.Value, scalar.Style, scalar.Tag), scalar.Anchor);
        }
        if (_parser.TryConsume<AnchorAlias>(out var alias))
        {
            return Alias(alias, level);
        }
        if (_parser.Accept<SequenceStart>(out var sequenceStart))
        {
            EnterCollection(sequenceStart, level);
            var sequence = new ConfigSequence(sequenceStart.Start);
            while (!_parser.TryConsume<SequenceEnd>(out _))
            {
                sequence.Add(ReadNode(level + 1));
            }
            return Anchor(sequence, sequenceStart.Anchor);
        }
        var mappingStart = _parser.Require<MappingStart>();
        EnterCollection(mappingStart, level);
        var mapping = new ConfigMapping(mappingStart.Start);
        while (!_parser.TryConsume<MappingEnd>(out _))
        {
            var key = ReadNode(level + 1);
            var value = ReadNode(level + 1);
            if (key is not ConfigScalar { IsIgnored: true })
            {
                mapping.Add(key, value);
            }
        }
        return Anchor(mapping, mappingStart.Anchor);
    }

    private void EnterCollection(NodeEvent start, int level)
    {
        if (level >= MaxDepth)
        {
            throw DepthExceeded(start.Start);
        }
        _parser.MoveNext();
    }

    private ConfigNode Alias(AnchorAlias alias, int level)
    {
        if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
        {
            Error(alias.Start, $"unknown YAML alias '*{alias.Value}'");
            return new ConfigScalar(alias.Start, string.Empty, ScalarStyle.Plain, TagName.Empty);
        }
        if (level + anchored.Height > MaxDepth)
        {
            throw DepthExceeded(alias.Start);
        }
        _aliasNodes += anchored.Size;
        if (_aliasNodes > MaxAliasNodes)
        {
            throw new LimitExceededException(alias.Start,
                $"YAML aliases expand to more than {MaxAliasNodes} nodes (the limit against alias bombs); write the repeated parts out or use fewer aliases");
        }
        return anchored;
    }

    private ConfigNode Anchor(ConfigNode node, AnchorName anchor)
    {
        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = node;
        }
        return node;
    }

    private static LimitExceededException DepthExceeded(Mark start)
        => new(start, $"nesting deeper than {MaxDepth} levels of mappings and lists (JSON content was too deeply nested: Envoy's protobuf JSON parser allows {MaxDepth})");

    private void Error(Mark start, string message)
        => _errors.Add(new ConfigError(new SourceLocation(_source, string.Empty, (int)start.Line, (int)start.Column), message));

    /// <summary>Ends reading: the rest of the document cannot be trusted to be read within bounds.</summary>
    private sealed class LimitExceededException(Mark start, string message) : Exception(message)
    {
        public Mark Start { get; } = start;
    }
}
