using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gateway.Configuration;

/// <summary>
/// A light document tree read straight from YamlDotNet's parser events. YamlDotNet's own
/// representation model hashes every key into dictionaries and costs three to four times the
/// parse itself (10,000 routes: ~300 ms vs ~80 ms), which is start-up time on big configs.
/// </summary>
internal abstract class ConfigNode(Mark start)
{
    public int Line { get; } = (int)start.Line;

    public int Column { get; } = (int)start.Column;
}

/// <summary>A scalar: every value is text until the binder reads it as a field's type.</summary>
internal sealed class ConfigScalar(Mark start, string value, ScalarStyle style) : ConfigNode(start)
{
    public string Value { get; } = value;

    /// <summary>True for an unquoted <c>~</c>, <c>null</c> or empty value.</summary>
    public bool IsNull { get; } = style is ScalarStyle.Plain or ScalarStyle.Any && value is "" or "~" or "null" or "Null" or "NULL";
}

/// <summary>A mapping, in document order.</summary>
internal sealed class ConfigMapping(Mark start) : ConfigNode(start)
{
    public List<KeyValuePair<ConfigNode, ConfigNode>> Entries { get; } = [];

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
internal sealed class ConfigSequence(Mark start) : ConfigNode(start)
{
    public List<ConfigNode> Items { get; } = [];
}

/// <summary>Reads one YAML (or JSON) document into a <see cref="ConfigNode"/> tree.</summary>
internal static class ConfigTreeReader
{
    /// <summary>The root node, or null for an empty document; problems go to <paramref name="errors"/>.</summary>
    public static ConfigNode? Read(string text, string source, List<ConfigError> errors)
    {
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }
            parser.Consume<DocumentStart>();
            var anchors = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
            var root = ReadNode(parser, anchors, source, errors);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                errors.Add(new ConfigError(new SourceLocation(source, string.Empty, (int)second.Start.Line, (int)second.Start.Column),
                    "a bootstrap file must hold exactly one YAML document"));
            }
            return root;
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
            errors.Add(new ConfigError(new SourceLocation(source, string.Empty, (int)ex.Start.Line, (int)ex.Start.Column),
                $"unable to parse YAML/JSON: {message}"));
            return null;
        }
    }

    private static ConfigNode ReadNode(IParser parser, Dictionary<string, ConfigNode> anchors, string source, List<ConfigError> errors)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return Anchor(new ConfigScalar(scalar.Start, scalar.Value, scalar.Style), scalar.Anchor, anchors);
        }
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var anchored))
            {
                return anchored;
            }
            errors.Add(new ConfigError(new SourceLocation(source, string.Empty, (int)alias.Start.Line, (int)alias.Start.Column), $"unknown YAML alias '*{alias.Value}'"));
            return new ConfigScalar(alias.Start, string.Empty, ScalarStyle.Plain);
        }
        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var sequence = new ConfigSequence(sequenceStart.Start);
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                sequence.Items.Add(ReadNode(parser, anchors, source, errors));
            }
            return Anchor(sequence, sequenceStart.Anchor, anchors);
        }
        var mappingStart = parser.Consume<MappingStart>();
        var mapping = new ConfigMapping(mappingStart.Start);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = ReadNode(parser, anchors, source, errors);
            var value = ReadNode(parser, anchors, source, errors);
            mapping.Entries.Add(new(key, value));
        }
        return Anchor(mapping, mappingStart.Anchor, anchors);
    }

    private static ConfigNode Anchor(ConfigNode node, AnchorName anchor, Dictionary<string, ConfigNode> anchors)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
        return node;
    }
}
