using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Validation;

namespace Gateway.Formatting;

/// <summary>
/// A compiled <c>SubstitutionFormatString</c> (Envoy's FormatterImpl / JsonFormatterImpl): made once when the
/// configuration is loaded, immutable and safe to share between requests. <see cref="Format"/> appends one entry to a
/// caller's buffer: for text, each operator's value or <c>-</c> (nothing with <c>omit_empty_values</c>); for JSON, one
/// object with its keys sorted, on one line.
/// </summary>
internal sealed class SubstitutionFormatter
{
    /// <summary>Envoy's default access log format (SubstitutionFormatUtils::DEFAULT_FORMAT), line ending included.</summary>
    public const string DefaultFormat =
        "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
        + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
        + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
        + "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
        + "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

    /// <summary>The content type of text formats (Envoy's ContentTypeValues.Text).</summary>
    public const string TextContentType = "text/plain";

    /// <summary>The content type of JSON formats.</summary>
    public const string JsonContentType = "application/json";

    [ThreadStatic]
    private static StringBuilder? t_scratch;

    private readonly FormatOperator[]? _text;
    private readonly JsonPart? _json;
    private readonly bool _omitEmptyValues;

    private SubstitutionFormatter(FormatOperator[]? text, JsonPart? json, bool omitEmptyValues, string contentType, bool needsBodyBytes)
    {
        _text = text;
        _json = json;
        _omitEmptyValues = omitEmptyValues;
        ContentType = contentType;
        NeedsBodyBytes = needsBodyBytes;
    }

    /// <summary><c>content_type</c>, or <c>text/plain</c> / <c>application/json</c> by the kind of format.</summary>
    public string ContentType { get; }

    /// <summary>True when the format prints <c>%BYTES_RECEIVED%</c> or <c>%BYTES_SENT%</c>: the body bytes must be counted.</summary>
    public bool NeedsBodyBytes { get; }

    /// <summary>True for a <c>json_format</c>.</summary>
    public bool IsJson => _json is not null;

    /// <summary>Appends one entry for <paramref name="context"/>.</summary>
    public void Format(in FormatterContext context, StringBuilder output)
    {
        if (_json is not null)
        {
            var scratch = t_scratch ??= new StringBuilder(256);
            if (!_json.Write(context, output, scratch, _omitEmptyValues))
            {
                output.Append("null");
            }
            // Envoy's JsonFormatterImpl ends every entry with a newline.
            output.Append('\n');
            return;
        }
        foreach (var part in _text!)
        {
            if (!part.Append(context, output) && !_omitEmptyValues)
            {
                output.Append('-');
            }
        }
    }

    /// <summary>One entry as a string (tests, local replies); access logs append to their buffer with <see cref="Format(in FormatterContext, StringBuilder)"/>.</summary>
    public string Format(in FormatterContext context)
    {
        var output = new StringBuilder();
        Format(context, output);
        return output.ToString();
    }

    /// <summary>
    /// Compiles <paramref name="model"/> (or <paramref name="defaultFormat"/> when it is null), reporting errors at the
    /// model's fields; null when there was an error.
    /// </summary>
    public static SubstitutionFormatter? Compile(SubstitutionFormatString? model, string defaultFormat, ValidationContext context, FormatterOptions? options = null)
    {
        options ??= FormatterOptions.Default;
        if (model is null)
        {
            var errors = new List<string>();
            var parts = FormatParser.Parse(defaultFormat, options, errors);
            foreach (var error in errors)
            {
                context.Error(SourceLocation.None, error);
            }
            return errors.Count > 0 ? null : FromText(parts, omitEmptyValues: false, contentType: null);
        }
        var failed = false;
        options = WithExtensions(model, options, context, ref failed);
        var set = (model.TextFormat is null ? 0 : 1) + (model.JsonFormat is null ? 0 : 1) + (model.TextFormatSource is null ? 0 : 1);
        if (set != 1)
        {
            if (!model.HasBindingError("text_format") && !model.HasBindingError("json_format") && !model.HasBindingError("text_format_source"))
            {
                context.Error(model.Location, "exactly one of text_format, json_format and text_format_source must be set");
            }
            return null;
        }
        var contentType = string.IsNullOrEmpty(model.ContentType) ? null : model.ContentType;
        if (model.JsonFormat is { } json)
        {
            var location = model.LocationOf("json_format");
            var compiled = CompileJsonObject(json, options, context, location, string.Empty, ref failed, out var bodyBytes);
            return failed ? null : new SubstitutionFormatter(null, compiled, model.OmitEmptyValues, contentType ?? JsonContentType, bodyBytes);
        }
        string text;
        string field;
        if (model.TextFormat is { } inline)
        {
            text = inline;
            field = "text_format";
        }
        else
        {
            field = "text_format_source";
            if (ReadDataSource(model.TextFormatSource!, context) is not { } read)
            {
                return null;
            }
            text = read;
        }
        var textErrors = new List<string>();
        var textParts = FormatParser.Parse(text, options, textErrors);
        foreach (var error in textErrors)
        {
            context.Error(model, field, error);
        }
        return failed || textErrors.Count > 0 ? null : FromText(textParts, model.OmitEmptyValues, contentType);
    }

    /// <summary>Compiles a plain text format held in <paramref name="field"/> of <paramref name="owner"/> (a header value); null when there was an error.</summary>
    /// <remarks>A header value is formatted with <paramref name="omitEmptyValues"/> (Envoy's header parser): a missing value is empty, not <c>-</c>.</remarks>
    public static SubstitutionFormatter? Compile(string text, ValidationContext context, EnvoyMessage owner, string field, FormatterOptions? options = null, bool omitEmptyValues = false)
    {
        var errors = new List<string>();
        var parts = FormatParser.Parse(text, options ?? FormatterOptions.Default, errors);
        foreach (var error in errors)
        {
            context.Error(owner, field, error);
        }
        return errors.Count > 0 ? null : FromText(parts, omitEmptyValues, contentType: null);
    }

    /// <summary>Compiles a text format built in code (Envoy's default format); throws when it is not valid.</summary>
    public static SubstitutionFormatter CompileOrThrow(string text, FormatterOptions? options = null, bool omitEmptyValues = false)
    {
        var errors = new List<string>();
        var parts = FormatParser.Parse(text, options ?? FormatterOptions.Default, errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(text));
        }
        return FromText(parts, omitEmptyValues, contentType: null);
    }

    private static SubstitutionFormatter FromText(List<FormatOperator> parts, bool omitEmptyValues, string? contentType)
    {
        var needsBytes = false;
        foreach (var part in parts)
        {
            needsBytes |= part.NeedsBodyBytes;
        }
        return new SubstitutionFormatter([.. parts], null, omitEmptyValues, contentType ?? TextContentType, needsBytes);
    }

    private static FormatterOptions WithExtensions(SubstitutionFormatString model, FormatterOptions options, ValidationContext context, ref bool failed)
    {
        var reqWithoutQuery = false;
        var metadata = false;
        foreach (var formatter in model.Formatters)
        {
            switch (formatter.TypedConfig)
            {
                case ReqWithoutQuery:
                    reqWithoutQuery = true;
                    break;
                case MetadataFormatterConfig:
                    metadata = true;
                    break;
                default:
                    if (!formatter.HasBindingError("typed_config"))
                    {
                        // Envoy's SubstitutionFormatStringUtils::parseFormatters.
                        context.Error(formatter, "typed_config", $"Formatter not found: {formatter.Name}");
                    }
                    failed = true;
                    break;
            }
        }
        if (!reqWithoutQuery && !metadata)
        {
            return options;
        }
        return new FormatterOptions
        {
            Time = options.Time,
            Random = options.Random,
            LocalZone = options.LocalZone,
            HostName = options.HostName,
            ReqWithoutQuery = reqWithoutQuery || options.ReqWithoutQuery,
            Metadata = metadata || options.Metadata,
        };
    }

    private static string? ReadDataSource(DataSource source, ValidationContext context)
    {
        var set = (source.Filename is null ? 0 : 1) + (source.InlineBytes is null ? 0 : 1) + (source.InlineString is null ? 0 : 1) + (source.EnvironmentVariable is null ? 0 : 1);
        if (set != 1)
        {
            context.Error(source, "a data source needs exactly one of filename, inline_bytes, inline_string, environment_variable");
            return null;
        }
        if (source.InlineString is { } inline)
        {
            return inline;
        }
        if (source.InlineBytes is { } bytes)
        {
            var buffer = new byte[bytes.Length];
            if (!Convert.TryFromBase64String(bytes, buffer, out var written))
            {
                context.Error(source, "inline_bytes", "'inline_bytes' must be base64");
                return null;
            }
            return Encoding.UTF8.GetString(buffer, 0, written);
        }
        if (source.EnvironmentVariable is { } variable)
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (value is null)
            {
                context.Error(source, "environment_variable", $"Environment variable doesn't exist: {variable}");
            }
            return value;
        }
        try
        {
            // Read once, when the configuration is loaded, as Envoy does.
            return File.ReadAllText(source.Filename!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            context.Error(source, "filename", $"Invalid path: {source.Filename}");
            return null;
        }
    }

    private static JsonMap CompileJsonObject(JsonObject json, FormatterOptions options, ValidationContext context, SourceLocation location, string path, ref bool failed, out bool bodyBytes)
    {
        bodyBytes = false;
        // Envoy writes the keys sorted (JsonFormatBuilder), whatever json_format_options says.
        var keys = new List<string>(json.Count);
        foreach (var (key, _) in json)
        {
            keys.Add(key);
        }
        keys.Sort(StringComparer.Ordinal);
        var members = new (string Key, JsonPart Value)[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var keyText = new StringBuilder();
            JsonText.AppendString(keyText, key);
            keyText.Append(':');
            var childPath = path.Length == 0 ? key : path + "." + key;
            members[i] = (keyText.ToString(), CompileJsonValue(json[key], options, context, location, childPath, ref failed, out var childBytes));
            bodyBytes |= childBytes;
        }
        return new JsonMap(members);
    }

    private static JsonPart CompileJsonValue(JsonNode? node, FormatterOptions options, ValidationContext context, SourceLocation location, string path, ref bool failed, out bool bodyBytes)
    {
        bodyBytes = false;
        switch (node)
        {
            case null:
                return JsonLiteral.Null;
            case JsonObject child:
                return CompileJsonObject(child, options, context, location, path, ref failed, out bodyBytes);
            case JsonArray array:
                var items = new JsonPart[array.Count];
                for (var i = 0; i < array.Count; i++)
                {
                    items[i] = CompileJsonValue(array[i], options, context, location, $"{path}[{i}]", ref failed, out var itemBytes);
                    bodyBytes |= itemBytes;
                }
                return new JsonList(items);
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        var text = value.GetValue<string>();
                        if (!text.Contains('%'))
                        {
                            var literal = new StringBuilder();
                            JsonText.AppendString(literal, text);
                            return new JsonLiteral(literal.ToString());
                        }
                        var errors = new List<string>();
                        var parts = FormatParser.Parse(text, options, errors);
                        foreach (var error in errors)
                        {
                            context.Error(location.Child(path), error);
                        }
                        failed |= errors.Count > 0;
                        foreach (var part in parts)
                        {
                            bodyBytes |= part.NeedsBodyBytes;
                        }
                        return new JsonTemplate([.. parts]);
                    case JsonValueKind.True:
                        return new JsonLiteral("true");
                    case JsonValueKind.False:
                        return new JsonLiteral("false");
                    case JsonValueKind.Number:
                        return new JsonLiteral(JsonText.Number(value.GetValue<double>()));
                    default:
                        return JsonLiteral.Null;
                }
            default:
                return JsonLiteral.Null;
        }
    }

    /// <summary>One value of a compiled JSON format.</summary>
    private abstract class JsonPart
    {
        /// <summary>Appends the value; false when it is null and nothing was appended.</summary>
        public abstract bool Write(in FormatterContext context, StringBuilder output, StringBuilder scratch, bool omitEmptyValues);
    }

    private sealed class JsonLiteral(string? json) : JsonPart
    {
        public static readonly JsonLiteral Null = new(null);

        public override bool Write(in FormatterContext context, StringBuilder output, StringBuilder scratch, bool omitEmptyValues)
        {
            if (json is null)
            {
                return false;
            }
            output.Append(json);
            return true;
        }
    }

    private sealed class JsonTemplate(FormatOperator[] parts) : JsonPart
    {
        public override bool Write(in FormatterContext context, StringBuilder output, StringBuilder scratch, bool omitEmptyValues)
        {
            // One operator keeps its type (Envoy's formatValue); several make a string of their texts.
            if (parts.Length == 1)
            {
                return parts[0].AppendJson(context, output, scratch);
            }
            output.Append('"');
            foreach (var part in parts)
            {
                scratch.Clear();
                if (part.Append(context, scratch))
                {
                    foreach (var chunk in scratch.GetChunks())
                    {
                        JsonText.AppendEscaped(output, chunk.Span);
                    }
                }
                else if (!omitEmptyValues)
                {
                    output.Append('-');
                }
            }
            output.Append('"');
            return true;
        }
    }

    private sealed class JsonMap((string Key, JsonPart Value)[] members) : JsonPart
    {
        public override bool Write(in FormatterContext context, StringBuilder output, StringBuilder scratch, bool omitEmptyValues)
        {
            output.Append('{');
            var written = 0;
            foreach (var (key, value) in members)
            {
                var mark = output.Length;
                if (written > 0)
                {
                    output.Append(',');
                }
                output.Append(key);
                if (!value.Write(context, output, scratch, omitEmptyValues))
                {
                    if (omitEmptyValues)
                    {
                        // A null value's key is left out.
                        output.Length = mark;
                        continue;
                    }
                    output.Append("null");
                }
                written++;
            }
            output.Append('}');
            return true;
        }
    }

    private sealed class JsonList(JsonPart[] items) : JsonPart
    {
        public override bool Write(in FormatterContext context, StringBuilder output, StringBuilder scratch, bool omitEmptyValues)
        {
            output.Append('[');
            for (var i = 0; i < items.Length; i++)
            {
                if (i > 0)
                {
                    output.Append(',');
                }
                if (!items[i].Write(context, output, scratch, omitEmptyValues))
                {
                    output.Append("null");
                }
            }
            output.Append(']');
            return true;
        }
    }
}
