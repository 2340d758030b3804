using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Filters.Common;
using Gateway.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Filters.HeaderToMetadata;

/// <summary>
/// One configuration's compiled rules (Envoy's <c>HeaderToMetadataFilter::writeHeaderToMetadata</c>): per rule the
/// header (all its values joined with ',') or cookie is read, removed when asked, and the present or missing
/// key/value pair is applied; the values of one pass are then merged into each namespace's dynamic metadata.
/// </summary>
internal sealed class HeaderToMetadataRules(HeaderToMetadataRules.Rule[] request, HeaderToMetadataRules.Rule[] response, HeaderToMetadataStats? stats)
{
    /// <summary>Envoy's MAX_HEADER_VALUE_LEN: a longer value adds nothing.</summary>
    private const int MaxHeaderValueLength = 8 * 1024;

    private const string DefaultNamespace = "envoy.filters.http.header_to_metadata";

    public static void Validate(HeaderToMetadataRule rule, HttpFilterValidationContext context)
    {
        var header = !string.IsNullOrEmpty(rule.Header);
        var cookie = !string.IsNullOrEmpty(rule.Cookie);
        if (header && cookie)
        {
            context.Error(rule.Location, "Cannot specify both header and cookie in the same rule");
            return;
        }
        if (!header && !cookie)
        {
            context.Error(rule.Location, "One of Cookie or Header option needs to be specified");
            return;
        }
        var what = header ? $"header '{rule.Header}'" : $"cookie '{rule.Cookie}'";
        if (rule.OnHeaderPresent is null && rule.OnHeaderMissing is null)
        {
            context.Error(rule.Location, $"header to metadata filter: rule for {what} has neither `on_header_present` nor `on_header_missing` set");
            return;
        }
        if (rule.OnHeaderPresent is { } present && !string.IsNullOrEmpty(present.Value) && present.RegexValueRewrite is not null)
        {
            context.Error(present.Location, "Cannot specify both value and regex_value_rewrite");
        }
        if (cookie && rule.Remove)
        {
            context.Error(rule.LocationOf("remove"), "Cannot specify remove for cookie");
        }
        if (rule.OnHeaderMissing is { } missing && string.IsNullOrEmpty(missing.Value))
        {
            context.Error(missing.Location, "Cannot specify on_header_missing rule with an empty value");
        }
        foreach (var pair in (HeaderToMetadataKeyValuePair?[])[rule.OnHeaderPresent, rule.OnHeaderMissing])
        {
            if (pair is null)
            {
                continue;
            }
            if (string.IsNullOrEmpty(pair.Key))
            {
                context.Error(pair.HasField("key") ? pair.LocationOf("key") : pair.Location, "'key' must be at least 1 character");
            }
            if (pair.RegexValueRewrite is { } rewrite)
            {
                if (rewrite.Pattern?.Regex is not { } pattern)
                {
                    context.Error(rewrite.Location, "regex_value_rewrite needs a 'pattern' with a 'regex'");
                }
                else if (RegexSubstitution.Validate(pattern) is { } error)
                {
                    context.Error(rewrite.Pattern.LocationOf("regex"), error);
                }
            }
        }
    }

    public static Rule[] CompileRules(List<HeaderToMetadataRule> rules)
    {
        var compiled = new Rule[rules.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            var rule = rules[i];
            var rewrite = rule.OnHeaderPresent?.RegexValueRewrite is { } r ? RegexSubstitution.Compile(r.Pattern!.Regex!, r.Substitution ?? string.Empty) : null;
            compiled[i] = new Rule(
                string.IsNullOrEmpty(rule.Header) ? null : rule.Header,
                string.IsNullOrEmpty(rule.Cookie) ? null : rule.Cookie,
                rule.Remove,
                Pair.From(rule.OnHeaderPresent),
                Pair.From(rule.OnHeaderMissing),
                rewrite);
        }
        return compiled;
    }

    public void ApplyRequest(HttpFilterContext context)
    {
        if (request.Length > 0)
        {
            Apply(context, context.HttpContext.Request.Headers, context.HttpContext.Request.Headers, request, requestDirection: true);
        }
    }

    public void ApplyResponse(HttpFilterContext context)
    {
        if (response.Length > 0)
        {
            // Cookies are read from the request's cookie header, as Envoy's parseCookieValue reads the map it is given.
            Apply(context, context.HttpContext.Response.Headers, context.HttpContext.Request.Headers, response, requestDirection: false);
        }
    }

    private void Apply(HttpFilterContext context, IHeaderDictionary headers, IHeaderDictionary cookies, Rule[] rules, bool requestDirection)
    {
        Dictionary<string, JsonObject>? added = null;
        foreach (var rule in rules)
        {
            var value = rule.Header is { } name ? ReadHeader(headers, name, rule.Remove) : CookieValue(cookies, rule.Cookie!);
            (requestDirection ? stats?.RequestRulesProcessed : stats?.ResponseRulesProcessed)?.Increment();
            if (value is not null && rule.Present is { } present)
            {
                ApplyPair(present, value, rule.Rewrite, ref added, requestDirection);
            }
            else if (value is null && rule.Missing is { } missing)
            {
                (requestDirection ? stats?.RequestHeaderNotFound : stats?.ResponseHeaderNotFound)?.Increment();
                ApplyPair(missing, string.Empty, null, ref added, requestDirection);
            }
        }
        if (added is null)
        {
            return;
        }
        foreach (var (ns, fields) in added)
        {
            // StreamInfo::setDynamicMetadata: a protobuf MergeFrom, so each key replaces the namespace's old one.
            var target = context.StreamInfo.DynamicMetadata(ns);
            foreach (var (key, node) in fields)
            {
                target[key] = node?.DeepClone();
            }
        }
    }

    private void ApplyPair(Pair pair, string value, RegexSubstitution? rewrite, ref Dictionary<string, JsonObject>? added, bool requestDirection)
    {
        if (pair.Value is not null)
        {
            value = pair.Value;
        }
        else if (rewrite is not null)
        {
            var nonEmpty = value.Length > 0;
            value = rewrite.Apply(value);
            if (nonEmpty && value.Length == 0)
            {
                stats?.RegexSubstitutionFailed.Increment();
            }
        }
        if (value.Length == 0)
        {
            return;
        }
        if (value.Length >= MaxHeaderValueLength)
        {
            stats?.HeaderValueTooLong.Increment();
            return;
        }
        if (pair.Base64)
        {
            if (DecodeBase64WithoutPadding(value) is not { Length: > 0 } decoded)
            {
                stats?.Base64DecodeFailed.Increment();
                return;
            }
            value = decoded;
        }
        JsonNode? node;
        if (pair.Type == HeaderToMetadataValueType.ProtobufValue)
        {
            // The header's characters are its bytes (Latin-1), as the base64 decoding above also keeps them.
            if (!ProtobufValueReader.TryParse(Encoding.Latin1.GetBytes(value), out node))
            {
                return;
            }
        }
        else if (pair.Type == HeaderToMetadataValueType.Number)
        {
            // absl::SimpleAtod on the trimmed value; a value that is not a number adds nothing.
            if (!double.TryParse(value.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return;
            }
            node = JsonValue.Create(number);
        }
        else
        {
            node = JsonValue.Create(value);
        }
        added ??= new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (!added.TryGetValue(pair.Namespace, out var fields))
        {
            fields = [];
            added[pair.Namespace] = fields;
        }
        fields[pair.Key] = node;
        (requestDirection ? stats?.RequestMetadataAdded : stats?.ResponseMetadataAdded)?.Increment();
    }

    private static string? ReadHeader(IHeaderDictionary headers, string name, bool remove)
    {
        if (!headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            return null;
        }
        var value = values.Count == 1 ? values[0] ?? string.Empty : string.Join(',', values.ToArray());
        if (remove)
        {
            headers.Remove(name);
        }
        return value;
    }

    /// <summary>Envoy's Utility::parseCookieValue; an empty value counts as missing.</summary>
    private static string? CookieValue(IHeaderDictionary headers, string name)
    {
        var value = Gateway.Routing.HttpCookies.Value(headers.Cookie, name);
        return value.IsEmpty ? null : value.ToString();
    }

    /// <summary>Envoy's Base64::decodeWithoutPadding: standard alphabet, padding optional; null (nothing added) when invalid.</summary>
    private static string? DecodeBase64WithoutPadding(string value)
    {
        if (value.Length % 4 == 1)
        {
            return null;
        }
        var padded = value.Length % 4 == 0 ? value : value + new string('=', 4 - (value.Length % 4));
        var bytes = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, bytes, out var written))
        {
            return null;
        }
        // The decoded bytes become a protobuf string (Latin-1 keeps every byte as one character, as header bytes are kept).
        return Encoding.Latin1.GetString(bytes, 0, written);
    }

    /// <summary>One compiled rule.</summary>
    internal sealed record Rule(string? Header, string? Cookie, bool Remove, Pair? Present, Pair? Missing, RegexSubstitution? Rewrite);

    /// <summary>One compiled key/value pair.</summary>
    internal sealed record Pair(string Namespace, string Key, string? Value, HeaderToMetadataValueType Type, bool Base64)
    {
        public static Pair? From(HeaderToMetadataKeyValuePair? pair) => pair is null
            ? null
            : new Pair(
                string.IsNullOrEmpty(pair.MetadataNamespace) ? DefaultNamespace : pair.MetadataNamespace,
                pair.Key!,
                string.IsNullOrEmpty(pair.Value) ? null : pair.Value,
                pair.Type,
                pair.Encode == HeaderToMetadataValueEncode.Base64);
    }
}
