using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gateway.Configuration;

/// <summary>
/// Reads a YAML (or JSON) node tree into the typed model, strictly: every unknown field, wrong type,
/// bad duration or enum and unsupported field becomes a <see cref="ConfigError"/>; binding goes on so
/// that all errors of a document are reported together. Binding into an existing object merges as
/// protobuf's MergeFrom does (scalars replaced, messages merged, repeated fields appended), which is
/// how <c>--config-yaml</c> is laid over <c>--config-path</c>.
/// </summary>
internal sealed partial class ConfigBinder
{
    private readonly string _source;
    private readonly EnvoyTypeRegistry _types;
    private readonly ConfigErrorList _errors;

    public ConfigBinder(string source, EnvoyTypeRegistry types, ConfigErrorList errors)
    {
        _source = source;
        _types = types;
        _errors = errors;
    }

    /// <returns>False when the document is not a mapping, so nothing of it is in the model.</returns>
    public bool BindRoot(ConfigNode node, EnvoyMessage target)
    {
        if (IsNull(node))
        {
            return true;
        }
        if (node is not ConfigMapping mapping)
        {
            Error(node, null, $"expected a mapping for {MessageSchema.For(target.GetType()).FullName}, got {Describe(node)}");
            return false;
        }
        BindMessage(mapping, target, null, allowTypeUrl: false);
        return true;
    }

    private void BindMessage(ConfigMapping node, EnvoyMessage target, ConfigPath? path, bool allowTypeUrl)
    {
        var schema = MessageSchema.For(target.GetType());
        if (target.Location.Source.Length == 0 && target.Location.Line == 0)
        {
            target.Location = At(node, path);
        }

        // An extension marked is_optional may name a type this gateway does not know: Envoy skips it.
        var optional = node.Get("is_optional") is ConfigScalar { Value: "true" or "True" };

        var entries = node.Entries;
        // Small mappings (nearly all) scan for duplicates; big ones hash, so that a 100,000-key mapping stays linear.
        var keys = entries.Count > SmallMapping ? new HashSet<string>(entries.Count, StringComparer.Ordinal) : null;
        for (var i = 0; i < entries.Count; i++)
        {
            var (keyNode, valueNode) = entries[i];
            if (keyNode is not ConfigScalar { Value: var key })
            {
                Error(keyNode, path, "field names must be plain strings");
                continue;
            }
            var fieldPath = new ConfigPath(path, Shorten(key));
            if (keys is null ? IsDuplicateKey(entries, i, key) : !keys.Add(key))
            {
                Error(keyNode, fieldPath, $"duplicate field {Quote(key)}");
                continue;
            }
            if (key == "@type")
            {
                if (!allowTypeUrl)
                {
                    Error(keyNode, fieldPath, $"'@type' is only allowed in a typed_config (google.protobuf.Any), not in {schema.FullName}");
                }
                continue;
            }
            if (!schema.TryGetField(key, out var field))
            {
                var snake = key.Contains('_', StringComparison.Ordinal) ? key : EnvoyNames.ToSnakeCase(key);
                if (schema.NotSupported.Contains(snake))
                {
                    Error(keyNode, fieldPath, $"field '{snake}' of {schema.FullName} is not supported by this gateway yet");
                    // A one-of the validator checks may have this field as its member: the error above is the one to report.
                    target.SetBindingError(snake);
                }
                else if (key == "<<")
                {
                    Error(keyNode, fieldPath, $"unknown field '<<' in {schema.FullName}: YAML merge keys are not supported (Envoy's YAML parser reads '<<' as a field name)");
                }
                else
                {
                    // Past the error limit a message is only counted: skip the suggestion (an edit distance per field name).
                    var suggestion = _errors.IsFull ? null : EnvoyNames.Suggest(key, schema.Fields.Select(f => f.Name).Concat(schema.NotSupported));
                    Error(keyNode, fieldPath, $"unknown field {Quote(key)} in {schema.FullName}" + (suggestion is null ? string.Empty : $" (did you mean '{suggestion}'?)"));
                    if (suggestion is not null)
                    {
                        // The misspelt field is what the user meant to set: no "'<field>' is required" on top of this error.
                        target.SetBindingError(suggestion);
                    }
                }
                continue;
            }
            if (IsNull(valueNode))
            {
                continue;
            }
            target.SetFieldLocation(field.Name, At(keyNode, fieldPath));
            BindField(valueNode, target, field, fieldPath, optional);
        }
    }

    private void BindField(ConfigNode node, EnvoyMessage target, SchemaField field, ConfigPath path, bool optional)
    {
        var property = field.Property;
        var type = property.PropertyType;

        // Every refused value marks the field (EnvoyMessage.HasBindingError), so validation does not report it again.
        if (field.IsAny && type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            if (!BindMap(node, (IDictionary)property.GetValue(target)!, typeof(EnvoyMessage), path, field.AnyCategory))
            {
                target.SetBindingError(field.Name);
            }
            return;
        }
        if (field.IsAny && type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            // A repeated Any (a DiscoveryResponse's resources): each element typed by its own @type.
            if (node is not ConfigSequence items)
            {
                Error(node, path, $"expected a list, got {Describe(node)}");
                target.SetBindingError(field.Name);
                return;
            }
            var anyList = (IList)property.GetValue(target)!;
            var start = anyList.Count;
            for (var i = 0; i < items.Items.Count; i++)
            {
                var element = BindAny(items.Items[i], null, new ConfigPath(path, null, start + i), optional: false, field.AnyCategory, out var elementFailed);
                if (element is not null)
                {
                    anyList.Add(element);
                }
                else if (elementFailed)
                {
                    target.SetBindingError(field.Name);
                }
            }
            return;
        }
        if (field.IsAny)
        {
            var existing = (EnvoyMessage?)property.GetValue(target);
            var value = BindAny(node, existing, path, optional, field.AnyCategory, out var failed);
            if (value is not null)
            {
                property.SetValue(target, value);
            }
            else if (failed)
            {
                target.SetBindingError(field.Name);
            }
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            if (!BindMap(node, (IDictionary)property.GetValue(target)!, type.GetGenericArguments()[1], path))
            {
                target.SetBindingError(field.Name);
            }
            return;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (node is not ConfigSequence sequence)
            {
                Error(node, path, $"expected a list, got {Describe(node)}");
                target.SetBindingError(field.Name);
                return;
            }
            var list = (IList?)property.GetValue(target);
            if (list is null)
            {
                list = (IList)Activator.CreateInstance(type)!;
                property.SetValue(target, list);
            }
            var elementType = type.GetGenericArguments()[0];
            var offset = list.Count;
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                var element = sequence.Items[i];
                var elementPath = new ConfigPath(path, null, offset + i);
                if (IsNull(element))
                {
                    Error(element, elementPath, "list elements may not be null");
                    target.SetBindingError(field.Name);
                    continue;
                }
                var value = BindValue(element, elementType, existing: null, elementPath);
                if (value is not null)
                {
                    list.Add(value);
                }
                else
                {
                    // The list lacks an element: counts and references over it are not checked.
                    target.SetBindingError(field.Name);
                }
            }
            return;
        }

        var bound = BindValue(node, type, property.GetValue(target), path);
        if (bound is not null)
        {
            property.SetValue(target, bound);
        }
        else
        {
            target.SetBindingError(field.Name);
        }
    }

    /// <summary>A protobuf <c>map&lt;string, V&gt;</c>: a mapping whose keys are plain strings.</summary>
    /// <returns>False when the map or one of its entries was refused.</returns>
    /// <param name="anyCategory">For a <c>map&lt;string, google.protobuf.Any&gt;</c> (<c>typed_per_filter_config</c>): what each value's <c>@type</c> may name.</param>
    private bool BindMap(ConfigNode node, IDictionary map, Type valueType, ConfigPath path, EnvoyTypeCategory? anyCategory = null)
    {
        if (node is not ConfigMapping mapping)
        {
            Error(node, path, $"expected a mapping, got {Describe(node)}");
            return false;
        }
        var complete = true;
        // Duplicates within the document are errors; a key already bound from an earlier document (a
        // --config-yaml overlay) is replaced, as protobuf's MergeFrom replaces map entries.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in mapping.Entries)
        {
            if (keyNode is not ConfigScalar { Value: var key })
            {
                Error(keyNode, path, "map keys must be plain strings");
                complete = false;
                continue;
            }
            var entryPath = new ConfigPath(path, Shorten(key));
            if (!seen.Add(key))
            {
                Error(keyNode, entryPath, $"duplicate key {Quote(key)}");
                continue;
            }
            var failed = false;
            var value = anyCategory is { } category
                ? BindAny(valueNode, map[key] as EnvoyMessage, entryPath, optional: false, category, out failed)
                : BindValue(valueNode, valueType, existing: null, entryPath);
            if (value is not null)
            {
                map[key] = value;
            }
            else if (anyCategory is null || failed)
            {
                complete = false;
            }
        }
        return complete;
    }

    /// <summary>
    /// A <c>google.protobuf.Struct</c> (any JSON object), read as Envoy's YAML-to-JSON step reads it: an
    /// unquoted scalar is null, a bool (yaml-cpp's spellings) or a number (a double) when it reads as one
    /// (an integer beyond 32 bits stays its decimal string, as in Envoy's yaml_utility.cc);
    /// anything quoted or tagged is a string.
    /// </summary>
    private JsonObject? BindStruct(ConfigNode node, ConfigPath path)
    {
        if (node is not ConfigMapping mapping)
        {
            Error(node, path, $"expected a mapping for google.protobuf.Struct, got {Describe(node)}");
            return null;
        }
        var result = new JsonObject();
        foreach (var (keyNode, valueNode) in mapping.Entries)
        {
            if (keyNode is not ConfigScalar { Value: var key })
            {
                Error(keyNode, path, "field names must be plain strings");
                continue;
            }
            var entryPath = new ConfigPath(path, Shorten(key));
            if (result.ContainsKey(key))
            {
                Error(keyNode, entryPath, $"duplicate field {Quote(key)}");
                continue;
            }
            result[key] = StructValue(valueNode, entryPath);
        }
        return result;
    }

    private JsonNode? StructValue(ConfigNode node, ConfigPath path)
    {
        switch (node)
        {
            case ConfigMapping:
                return BindStruct(node, path);
            case ConfigSequence sequence:
                var list = new JsonArray();
                for (var i = 0; i < sequence.Items.Count; i++)
                {
                    list.Add(StructValue(sequence.Items[i], new ConfigPath(path, null, i)));
                }
                return list;
            case ConfigScalar { IsNull: true }:
                return null;
            case ConfigScalar { IsPlain: true, Value: var text } when YamlBool(text) is { } flag:
                return JsonValue.Create(flag);
            case ConfigScalar { IsPlain: true, Value: var text } when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer):
                // As Envoy's reader: a 32-bit integer is a number, a larger one its decimal string (no double rounding).
                return integer is >= int.MinValue and <= int.MaxValue ? JsonValue.Create((double)integer) : JsonValue.Create(integer.ToString(CultureInfo.InvariantCulture));
            case ConfigScalar { IsPlain: true, Value: var text } when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number):
                return JsonValue.Create(number);
            case ConfigScalar scalar:
                return JsonValue.Create(scalar.Value);
            default:
                return null;
        }
    }

    /// <summary>yaml-cpp's bool spellings (<c>convert&lt;bool&gt;</c>), which Envoy's YAML reader uses.</summary>
    private static bool? YamlBool(string text) => text switch
    {
        "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON" => true,
        "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF" => false,
        _ => null,
    };

    private object? BindValue(ConfigNode node, Type type, object? existing, ConfigPath path)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(JsonObject))
        {
            var bound = BindStruct(node, path);
            if (existing is JsonObject target && bound is not null)
            {
                // A Struct's fields are a map: MergeFrom replaces an entry by its key and keeps the others.
                var entries = new List<KeyValuePair<string, JsonNode?>>(bound);
                bound.Clear();
                foreach (var (key, value) in entries)
                {
                    target[key] = value;
                }
                return target;
            }
            return bound;
        }
        if (typeof(EnvoyMessage).IsAssignableFrom(underlying))
        {
            if (node is not ConfigMapping mapping)
            {
                Error(node, path, $"expected a mapping for {MessageSchema.For(underlying).FullName}, got {Describe(node)}");
                return null;
            }
            var message = existing as EnvoyMessage ?? (EnvoyMessage)Activator.CreateInstance(underlying)!;
            BindMessage(mapping, message, path, allowTypeUrl: false);
            return message;
        }

        if (underlying == typeof(TimeSpan))
        {
            return BindDuration(node, path);
        }

        if (node is not ConfigScalar scalar)
        {
            Error(node, path, $"expected {ScalarDescription(underlying)}, got {Describe(node)}");
            return null;
        }
        var text = scalar.Value;

        if (underlying == typeof(string))
        {
            return text;
        }
        if (underlying == typeof(bool))
        {
            if (bool.TryParse(text, out var flag))
            {
                return flag;
            }
            Error(node, path, $"expected a boolean (true or false), got {Quote(text)}");
            return null;
        }
        if (underlying.IsEnum)
        {
            return BindEnum(scalar, underlying, path);
        }
        if (underlying == typeof(uint))
        {
            if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
            Error(node, path, $"expected an unsigned 32-bit integer, got {Quote(text)}");
            return null;
        }
        if (underlying == typeof(int))
        {
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
            Error(node, path, $"expected a 32-bit integer, got {Quote(text)}");
            return null;
        }
        if (underlying == typeof(long))
        {
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
            Error(node, path, $"expected a 64-bit integer, got {Quote(text)}");
            return null;
        }
        if (underlying == typeof(ulong))
        {
            if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
            Error(node, path, $"expected an unsigned 64-bit integer, got {Quote(text)}");
            return null;
        }
        if (underlying == typeof(double))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
            Error(node, path, $"expected a number, got {Quote(text)}");
            return null;
        }
        throw new InvalidOperationException($"The model uses {type}, which the binder cannot read.");
    }

    /// <param name="failed">True when null is returned because of an error (false for a skipped optional extension).</param>
    private EnvoyMessage? BindAny(ConfigNode node, EnvoyMessage? existing, ConfigPath path, bool optional, EnvoyTypeCategory category, out bool failed)
    {
        failed = true;
        if (node is not ConfigMapping mapping)
        {
            Error(node, path, $"expected a mapping with an '@type' (google.protobuf.Any), got {Describe(node)}");
            return null;
        }
        if (mapping.Entries.Count == 0 && category == EnvoyTypeCategory.HttpFilterRouteConfig)
        {
            // FilterConfig.config: {} enables the filter on the route without configuring it.
            failed = false;
            return new EmptyAny { Location = At(node, path) };
        }
        var typeNode = mapping.Get("@type");
        if (typeNode is not ConfigScalar { Value: { Length: > 0 } typeUrl })
        {
            Error(node, path, "typed_config needs an '@type' naming its message type");
            return null;
        }
        if (!_types.TryResolve(typeUrl, out var type))
        {
            // Envoy looks load-balancing policies up as optional: a candidate it lacks gives way to the next one.
            if (optional || category == EnvoyTypeCategory.LoadBalancingPolicy)
            {
                failed = false;
                return null;
            }
            Error(typeNode, new ConfigPath(path, "@type"), $"@type {Quote(typeUrl)} is not supported by this gateway; {Supported(category)}");
            return null;
        }
        if (!_types.IsOfCategory(type, category))
        {
            Error(typeNode, new ConfigPath(path, "@type"), $"@type {Quote(typeUrl)} is not {Describe(category)}; {Supported(category)}");
            return null;
        }
        var message = existing is not null && existing.GetType() == type ? existing : (EnvoyMessage)Activator.CreateInstance(type)!;
        BindMessage(mapping, message, path, allowTypeUrl: true);
        failed = false;
        return message;
    }

    /// <summary>What may stand at a position of this category, listed for the error.</summary>
    private string Supported(EnvoyTypeCategory category)
    {
        var names = string.Join(", ", _types.RegisteredNamesOf(category));
        return category switch
        {
            EnvoyTypeCategory.HttpFilter => $"the HTTP filter configurations registered are: {names}",
            EnvoyTypeCategory.HttpFilterRouteConfig => $"the per-route HTTP filter configurations registered are: {names}",
            EnvoyTypeCategory.NetworkFilter => $"the network filters supported are: {names}",
            EnvoyTypeCategory.PathMatcher => $"the path matchers supported are: {names}",
            EnvoyTypeCategory.PathRewriter => $"the path rewriters supported are: {names}",
            EnvoyTypeCategory.TransportSocket => $"the transport sockets supported are: {names}",
            EnvoyTypeCategory.ListenerFilter => $"the listener filters supported are: {names}",
            _ => $"supported types are: {names}",
        };
    }

    private static string Describe(EnvoyTypeCategory category) => category switch
    {
        EnvoyTypeCategory.HttpFilter => "an HTTP filter configuration",
        EnvoyTypeCategory.HttpFilterRouteConfig => "a per-route HTTP filter configuration",
        EnvoyTypeCategory.NetworkFilter => "a network filter configuration",
        EnvoyTypeCategory.PathMatcher => "a path matcher",
        EnvoyTypeCategory.PathRewriter => "a path rewriter",
        EnvoyTypeCategory.TransportSocket => "a transport socket configuration",
        EnvoyTypeCategory.ListenerFilter => "a listener filter configuration",
        _ => "valid here",
    };

    private object? BindEnum(ConfigScalar scalar, Type enumType, ConfigPath path)
    {
        var text = scalar.Value;
        foreach (var value in Enum.GetValues(enumType))
        {
            // Envoy parses with protobuf's case_insensitive_enum_parsing (MessageUtil::loadFromJson): `strict_dns` is STRICT_DNS.
            if (string.Equals(EnvoyNames.EnumValueName((Enum)value), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && Enum.IsDefined(enumType, number))
        {
            return Enum.ToObject(enumType, number);
        }
        var valid = string.Join(", ", Enum.GetValues(enumType).Cast<Enum>().Select(EnvoyNames.EnumValueName));
        Error(scalar, path, $"unknown value {Quote(text)} for enum {enumType.Name}; valid values are: {valid}");
        return null;
    }

    private TimeSpan? BindDuration(ConfigNode node, ConfigPath path)
    {
        if (node is ConfigMapping mapping)
        {
            // The protobuf message form { seconds: N, nanos: M } that YAML configs sometimes use.
            long seconds = 0;
            long nanos = 0;
            var ok = true;
            foreach (var (key, value) in mapping.Entries)
            {
                var name = (key as ConfigScalar)?.Value;
                var text = (value as ConfigScalar)?.Value;
                if (name == "seconds" && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) && s is >= -MaxDurationSeconds and <= MaxDurationSeconds)
                {
                    seconds = s;
                }
                else if (name == "nanos" && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n is > -1_000_000_000 and < 1_000_000_000)
                {
                    nanos = n;
                }
                else
                {
                    Error(key, new ConfigPath(path, Shorten(name ?? "?")), "a duration object takes only integer 'seconds' (|seconds| <= 315576000000) and 'nanos' (|nanos| < 1e9)");
                    ok = false;
                }
            }
            return ok ? TimeSpan.FromTicks(seconds * TimeSpan.TicksPerSecond + nanos / 100) : null;
        }
        if (node is ConfigScalar { Value: var textValue } && TryParseDuration(textValue, out var duration))
        {
            return duration;
        }
        Error(node, path, $"invalid duration {DescribeValue(node)}: expected seconds with up to 9 fractional digits and an 's' suffix, e.g. '5s' or '0.25s'");
        return null;
    }

    /// <summary>Parses protobuf JSON's duration form: <c>"5s"</c>, <c>"0.25s"</c>, <c>"-1.5s"</c>.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = DurationPattern().Match(text);
        if (!match.Success)
        {
            return false;
        }
        if (!long.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > MaxDurationSeconds)
        {
            return false;
        }
        var fraction = match.Groups[3].Success ? match.Groups[3].Value.PadRight(7, '0')[..7] : "0";
        var ticks = seconds * TimeSpan.TicksPerSecond + long.Parse(fraction, CultureInfo.InvariantCulture);
        duration = TimeSpan.FromTicks(match.Groups[1].Success ? -ticks : ticks);
        return true;
    }

    /// <summary>google.protobuf.Duration's range: 10,000 years.</summary>
    private const long MaxDurationSeconds = 315_576_000_000;

    [GeneratedRegex(@"^(-)?(\d+)(?:\.(\d{1,9}))?s$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    private static bool IsNull(ConfigNode node) => node is ConfigScalar { IsNull: true };

    private const int SmallMapping = 16;

    /// <summary>Longest key or value quoted in full in an error message (type URLs run to ~120); a 10 MB scalar is shown by its start and length.</summary>
    private const int MaxQuoted = 256;

    private static string Shorten(string text) => text.Length <= MaxQuoted ? text : $"{text[..MaxQuoted]}...";

    private static string Quote(string text)
        => text.Length <= MaxQuoted ? $"'{text}'" : $"'{text[..MaxQuoted]}...' ({text.Length} characters)";

    private static bool IsDuplicateKey(List<KeyValuePair<ConfigNode, ConfigNode>> entries, int index, string key)
    {
        for (var j = 0; j < index; j++)
        {
            if (entries[j].Key is ConfigScalar { Value: var earlier } && earlier == key)
            {
                return true;
            }
        }
        return false;
    }

    private static string Describe(ConfigNode node) => node switch
    {
        ConfigMapping => "a mapping",
        ConfigSequence => "a list",
        ConfigScalar scalar => Quote(scalar.Value),
        _ => node.GetType().Name,
    };

    private static string DescribeValue(ConfigNode node) => Describe(node);

    private static string ScalarDescription(Type type) => type == typeof(string) ? "a string"
        : type == typeof(bool) ? "a boolean"
        : type.IsEnum ? $"an enum value of {type.Name}"
        : "a number";

    private SourceLocation At(ConfigNode node, ConfigPath? path)
        => new(_source, path, node.Line, node.Column);

    private void Error(ConfigNode node, ConfigPath? path, string message) => _errors.Add(new ConfigError(At(node, path), message));
}
