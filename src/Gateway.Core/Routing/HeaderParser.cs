using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Listeners;
using Gateway.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Routing;

/// <summary>
/// Envoy's <c>Router::HeaderParser</c>: one level's headers to remove and <c>HeaderValueOption</c>s to add, compiled
/// once. <see cref="Evaluate"/> removes first, then formats every value against the headers as they stand (none of
/// this level's additions visible), then overwrites, then appends; a value that formats empty is skipped unless
/// <c>keep_empty_value</c>. Immutable, shared by every request.
/// </summary>
internal sealed partial class HeaderParser
{
    /// <summary>A parser that does nothing.</summary>
    public static HeaderParser Empty { get; } = new([], []);

    /// <summary>The limit of Envoy's <c>repeated.max_items</c> on every <c>*_headers_to_add</c> list.</summary>
    public const int MaxItems = 1000;

    /// <summary>Envoy's <c>max_bytes</c> on a <c>HeaderValue</c>'s key and value.</summary>
    private const int MaxBytes = 16384;

    private const string HeaderNameRegexError = "value does not match regex pattern \"^[^\\x00\\n\\r]*$\"";

    [ThreadStatic]
    private static StringBuilder? t_format;

    private readonly string[] _remove;
    private readonly Entry[] _add;

    private HeaderParser(string[] remove, Entry[] add)
    {
        _remove = remove;
        _add = add;
    }

    /// <summary>True when the parser neither removes nor adds anything.</summary>
    public bool IsEmpty => _remove.Length == 0 && _add.Length == 0;

    /// <summary>
    /// Envoy's HeaderValueOption append mode: the deprecated <c>append</c> (true: append, false: overwrite or add) when
    /// given, else <c>append_action</c>.
    /// </summary>
    public static HeaderAppendAction ActionOf(HeaderValueOption option) => option.Append switch
    {
        true => HeaderAppendAction.AppendIfExistsOrAdd,
        false => HeaderAppendAction.OverwriteIfExistsOrAdd,
        null => option.AppendAction,
    };

    /// <summary>Envoy refuses <c>append</c> together with an <c>append_action</c> other than the default (HeadersToAddEntry).</summary>
    public static bool HasConflictingAppend(HeaderValueOption option)
        => option.Append is not null && option.AppendAction != HeaderAppendAction.AppendIfExistsOrAdd;

    /// <summary>The message of <see cref="HasConflictingAppend"/>, Envoy's wording.</summary>
    public const string ConflictingAppendMessage = "Both append and append_action are set and it's not allowed";

    /// <summary>
    /// Checks one level's lists as Envoy's route configuration does (the protos' constraints, HeaderParser::configure,
    /// the value formatters), every error at its field. <paramref name="removeMayBeEmpty"/>: the route configuration's
    /// lists allow an empty name, the virtual host's and route's do not.
    /// </summary>
    public static void Validate(EnvoyMessage owner, string addField, List<HeaderValueOption> add, string removeField, List<string> remove, bool removeMayBeEmpty, ValidationContext context)
    {
        if (add.Count > MaxItems)
        {
            context.Error(owner, addField, $"value must contain no more than {MaxItems} item(s)");
        }
        foreach (var option in add)
        {
            ValidateOption(option, context);
        }
        foreach (var name in remove)
        {
            if (name.Length == 0)
            {
                if (!removeMayBeEmpty)
                {
                    context.Error(owner, removeField, "value length must be at least 1 characters");
                }
            }
            else if (name.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
            {
                context.Error(owner, removeField, HeaderNameRegexError);
            }
            else if (!IsModifiable(name))
            {
                context.Error(owner, removeField, ":-prefixed or host headers may not be removed");
            }
            else if (!HeaderBytes.IsToken(name))
            {
                context.Error(owner, removeField, $"'{name}' is not a header name this gateway can carry (an RFC 9110 token)");
            }
        }
    }

    /// <summary>Checks <c>internal_only_headers</c>: names the connection manager removes from external requests.</summary>
    public static void ValidateInternalOnly(RouteConfiguration config, ValidationContext context)
    {
        foreach (var name in config.InternalOnlyHeaders)
        {
            if (name.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
            {
                context.Error(config, "internal_only_headers", HeaderNameRegexError);
            }
            else if (name.Length != 0 && !IsModifiable(name))
            {
                // Envoy would strip a pseudo-header (or nothing, for host, which it keeps as :authority): neither is useful.
                context.Error(config, "internal_only_headers", $"'{name}': pseudo-headers and host are not supported by this gateway in internal_only_headers");
            }
            else if (name.Length != 0 && !HeaderBytes.IsToken(name))
            {
                context.Error(config, "internal_only_headers", $"'{name}' is not a header name this gateway can carry (an RFC 9110 token)");
            }
        }
    }

    private static void ValidateOption(HeaderValueOption option, ValidationContext context)
    {
        if (HasConflictingAppend(option))
        {
            context.Error(option, ConflictingAppendMessage);
        }
        if (option.Header is not { } header)
        {
            if (!option.HasBindingError("header"))
            {
                context.Error(option, "header", "value is required");
            }
            return;
        }
        var key = header.Key ?? string.Empty;
        if (key.Length == 0)
        {
            context.Error(header, "key", "value length must be at least 1 characters");
        }
        else if (Encoding.UTF8.GetByteCount(key) > MaxBytes)
        {
            context.Error(header, "key", $"value length must be at most {MaxBytes} bytes");
        }
        else if (key.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
        {
            context.Error(header, "key", HeaderNameRegexError);
        }
        else if (!IsModifiable(key))
        {
            context.Error(header, "key", ":-prefixed or host headers may not be modified");
        }
        else if (!HeaderBytes.IsToken(key))
        {
            context.Error(header, "key", $"'{key}' is not a header name this gateway can carry (an RFC 9110 token)");
        }
        var value = header.Value ?? string.Empty;
        if (Encoding.UTF8.GetByteCount(value) > MaxBytes)
        {
            context.Error(header, "value", $"value length must be at most {MaxBytes} bytes");
        }
        else if (value.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0)
        {
            context.Error(header, "value", "value does not match regex pattern \"^[^\\x00\\n\\r]*$\"");
        }
        else if (HeaderBytes.HasInvalidValueChars(value))
        {
            context.Error(header, "value", "a header value may not hold control characters other than HTAB (the gateway's HTTP server refuses them)");
        }
        else
        {
            CompileValue(header, context, FormatterOptions.Default);
        }
    }

    /// <summary>Envoy's HeaderUtility::isModifiableHeader / isRemovableHeader: neither a pseudo-header nor <c>host</c>.</summary>
    private static bool IsModifiable(string name) => name.Length == 0 || (name[0] != ':' && !string.Equals(name, "host", StringComparison.OrdinalIgnoreCase));

    /// <summary>Compiles validated lists (the errors cannot occur: they were reported when the configuration loaded).</summary>
    public static HeaderParser Compile(List<HeaderValueOption> add, List<string> remove, FormatterOptions options)
    {
        if (add.Count == 0 && remove.Count == 0)
        {
            return Empty;
        }
        var scratch = new ValidationContext(EnvoyTypeRegistry.CreateDefault());
        var entries = new Entry[add.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var option = add[i];
            var header = option.Header!;
            var value = CompileValue(header, scratch, options) ?? throw new InvalidOperationException("a validated header value compiles");
            entries[i] = new Entry(header.Key!.ToLowerInvariant(), value.Literal, value.Formatter, ActionOf(option), option.KeepEmptyValue);
        }
        var names = new string[remove.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = remove[i].ToLowerInvariant();
        }
        return new HeaderParser(names, entries);
    }

    /// <summary>Plain values only (filters whose values are not formats): each value is sent as written.</summary>
    public static HeaderParser CompileLiterals(List<HeaderValueOption> add)
    {
        if (add.Count == 0)
        {
            return Empty;
        }
        var entries = new Entry[add.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var option = add[i];
            entries[i] = new Entry(option.Header!.Key!.ToLowerInvariant(), option.Header.Value ?? string.Empty, null, ActionOf(option), option.KeepEmptyValue);
        }
        return new HeaderParser([], entries);
    }

    private static CompiledValue? CompileValue(HeaderValue header, ValidationContext context, FormatterOptions options)
    {
        // Config strings are sent as their UTF-8 bytes, one char per byte (HeaderBytes), formatted or not.
        var text = HeaderBytes.FromConfig(header.Value ?? string.Empty);
        if (!text.Contains('%', StringComparison.Ordinal))
        {
            return new CompiledValue(text, null);
        }
        if (PerRequestState().IsMatch(text))
        {
            context.Error(header, "value", "PER_REQUEST_STATE is not supported by this gateway: the gateway has no filter state (Envoy reads it as FILTER_STATE(key:PLAIN))");
            return null;
        }
        var formatter = SubstitutionFormatter.Compile(TranslateMetadataFormat(text), context, header, "value", options, omitEmptyValues: true);
        return formatter is null ? null : new CompiledValue(null, formatter);
    }

    /// <summary>
    /// Envoy's HeaderParser::translateMetadataFormat (the legacy route formatter, on by default in the Envoy versions
    /// followed): <c>%UPSTREAM_METADATA(["ns", "key"])%</c> and <c>%DYNAMIC_METADATA([...])%</c> become the substitution
    /// formatter's <c>ns:key</c> form; a list that is not a non-empty JSON array of strings leaves the value unchanged.
    /// </summary>
    internal static string TranslateMetadataFormat(string value)
    {
        var result = value;
        for (var match = LegacyMetadata().Match(result); match.Success; match = LegacyMetadata().Match(result))
        {
            string[]? keys;
            try
            {
                keys = JsonSerializer.Deserialize<string[]>(match.Groups[2].Value);
            }
            catch (JsonException)
            {
                return value;
            }
            if (keys is null || keys.Length == 0)
            {
                return value;
            }
            result = result.Replace(match.Value, $"%{match.Groups[1].Value}_METADATA({string.Join(':', keys)})%", StringComparison.Ordinal);
        }
        return result;
    }

    [GeneratedRegex(@"%(UPSTREAM|DYNAMIC)_METADATA\(\s*(\[(?:.|\r?\n)+?\]\s*)\)%", RegexOptions.CultureInvariant)]
    private static partial Regex LegacyMetadata();

    [GeneratedRegex(@"%PER_REQUEST_STATE\((.+?)\)%", RegexOptions.CultureInvariant)]
    private static partial Regex PerRequestState();

    /// <summary>Applies the level to <paramref name="headers"/>; formatters read <paramref name="context"/> (whose headers are these).</summary>
    public void Evaluate(IHeaderDictionary headers, in FormatterContext context)
    {
        foreach (var name in _remove)
        {
            headers.Remove(name);
        }
        var count = _add.Length;
        if (count == 0)
        {
            return;
        }
        // Every value is formatted and every existence checked before anything is set (Envoy evaluates all formatters on
        // the headers as received), then overwrites go first and appends after.
        var values = ArrayPool<string?>.Shared.Rent(count);
        Span<byte> kinds = count <= 128 ? stackalloc byte[count] : new byte[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                var entry = _add[i];
                var value = entry.Literal ?? Format(entry.Formatter!, context);
                kinds[i] = Skip;
                if (value.Length == 0 && !entry.KeepEmpty)
                {
                    continue;
                }
                values[i] = value;
                switch (entry.Action)
                {
                    case HeaderAppendAction.AppendIfExistsOrAdd:
                        kinds[i] = Add;
                        break;
                    case HeaderAppendAction.AddIfAbsent:
                        kinds[i] = headers.ContainsKey(entry.Name) ? Skip : Add;
                        break;
                    case HeaderAppendAction.OverwriteIfExists:
                        kinds[i] = headers.ContainsKey(entry.Name) ? Overwrite : Skip;
                        break;
                    default:
                        kinds[i] = Overwrite;
                        break;
                }
            }
            for (var i = 0; i < count; i++)
            {
                if (kinds[i] == Overwrite)
                {
                    headers[_add[i].Name] = values[i];
                }
            }
            for (var i = 0; i < count; i++)
            {
                if (kinds[i] == Add)
                {
                    var name = _add[i].Name;
                    // Not IHeaderDictionary.Append, which drops the empty value keep_empty_value asks for.
                    headers[name] = headers.TryGetValue(name, out var existing) ? StringValues.Concat(existing, values[i]) : new StringValues(values[i]);
                }
            }
        }
        finally
        {
            Array.Clear(values, 0, count);
            ArrayPool<string?>.Shared.Return(values);
        }
    }

    private const byte Skip = 0;
    private const byte Add = 1;
    private const byte Overwrite = 2;

    private static string Format(SubstitutionFormatter formatter, in FormatterContext context)
    {
        var buffer = t_format ??= new StringBuilder(64);
        buffer.Clear();
        formatter.Format(context, buffer);
        return buffer.Length == 0 ? string.Empty : buffer.ToString();
    }

    private readonly record struct Entry(string Name, string? Literal, SubstitutionFormatter? Formatter, HeaderAppendAction Action, bool KeepEmpty);

    private sealed record CompiledValue(string? Literal, SubstitutionFormatter? Formatter);
}
