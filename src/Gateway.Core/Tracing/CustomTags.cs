using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Listeners;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tracing;

/// <summary>What a custom tag may read when a span is finalized (Envoy's CustomTagContext).</summary>
internal readonly struct CustomTagContext(HttpContext http, RequestStreamInfo info)
{
    public HttpContext Http { get; } = http;

    public RequestStreamInfo Info { get; } = info;
}

/// <summary>
/// A compiled <c>envoy.type.tracing.v3.CustomTag</c> (Envoy's custom_tag_impl.cc): a tag whose value comes from a
/// literal, the environment (read once, when the configuration is applied), a request or response header, or metadata.
/// No tag is set when the source has no value and there is no default.
/// </summary>
internal abstract class CustomTagPlan(string tag)
{
    /// <summary>The tag's name.</summary>
    public string Tag { get; } = tag;

    /// <summary>Sets the tag on <paramref name="span"/> when it has a value.</summary>
    public void Apply(ISpan span, in CustomTagContext context)
    {
        if (Value(context) is { Length: > 0 } value)
        {
            span.SetTag(Tag, value);
        }
    }

    /// <summary>The value for this request, or null (no tag).</summary>
    protected abstract string? Value(in CustomTagContext context);

    /// <summary>Compiles a validated custom tag.</summary>
    public static CustomTagPlan Compile(CustomTag tag)
    {
        var name = tag.Tag!;
        if (tag.Literal is { } literal)
        {
            return new Fixed(name, literal.Value);
        }
        if (tag.Environment is { } environment)
        {
            // Envoy reads the variable once, when the tag is created.
            var value = System.Environment.GetEnvironmentVariable(environment.Name!);
            return new Fixed(name, string.IsNullOrEmpty(value) ? environment.DefaultValue : value);
        }
        if (tag.RequestHeader is { } request)
        {
            return new Header(name, request.Name!, request.DefaultValue, response: false);
        }
        if (tag.ResponseHeader is { } response)
        {
            return new Header(name, response.Name!, response.DefaultValue, response: true);
        }
        var metadata = tag.Metadata!;
        var key = metadata.MetadataKey!;
        var kind = metadata.Kind switch
        {
            { Route: not null } => MetadataSource.Route,
            { Cluster: not null } => MetadataSource.Cluster,
            { Host: not null } => MetadataSource.Host,
            _ => MetadataSource.Request,
        };
        return new Metadata(name, kind, key.Key!, key.Path.Select(p => p.Key!).ToArray(), metadata.DefaultValue);
    }

    /// <summary>Compiles a tag list; a later tag of the same name does not replace an earlier one (Envoy's map emplace).</summary>
    public static CustomTagPlan[] CompileAll(IEnumerable<CustomTag> tags, IEnumerable<CustomTagPlan>? first = null)
    {
        var result = new List<CustomTagPlan>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var plan in first ?? [])
        {
            if (names.Add(plan.Tag))
            {
                result.Add(plan);
            }
        }
        foreach (var tag in tags)
        {
            if (names.Add(tag.Tag!))
            {
                result.Add(Compile(tag));
            }
        }
        return [.. result];
    }

    private sealed class Fixed(string tag, string? value) : CustomTagPlan(tag)
    {
        protected override string? Value(in CustomTagContext context) => value;
    }

    private sealed class Header(string tag, string name, string? defaultValue, bool response) : CustomTagPlan(tag)
    {
        protected override string? Value(in CustomTagContext context)
        {
            var headers = response ? context.Http.Response.Headers : context.Http.Request.Headers;
            var values = headers[name];
            // Envoy's HeaderMap::get(...)[0]: the first value of the header.
            return values.Count == 0 ? defaultValue : values[0];
        }
    }

    private enum MetadataSource
    {
        Request,
        Route,
        Cluster,
        Host,
    }

    private sealed class Metadata(string tag, MetadataSource source, string filterNamespace, string[] path, string? defaultValue) : CustomTagPlan(tag)
    {
        protected override string? Value(in CustomTagContext context)
        {
            var info = context.Info;
            switch (source)
            {
                case MetadataSource.Request:
                    return info.FindDynamicMetadata(filterNamespace) is { } dynamic && Find(dynamic, path) is { } node ? Text(node) : defaultValue;
                case MetadataSource.Route:
                    return Find(info.Route?.Metadata, filterNamespace, path) ?? defaultValue;
                case MetadataSource.Cluster:
                    return Find(info.UpstreamCluster?.Metadata, filterNamespace, path) ?? defaultValue;
                default:
                    return Find(info.Host?.Metadata, filterNamespace, path) ?? defaultValue;
            }
        }

        private static JsonNode? Find(JsonObject root, string[] path)
        {
            JsonNode? node = root;
            foreach (var key in path)
            {
                if (node is not JsonObject obj || !obj.TryGetPropertyValue(key, out node))
                {
                    return null;
                }
            }
            return node;
        }

        private static string? Find(EnvoyMetadata? metadata, string filterNamespace, string[] path)
        {
            if (metadata is null || !metadata.TryGetNamespace(filterNamespace, out var element))
            {
                return null;
            }
            foreach (var key in path)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out element))
                {
                    return null;
                }
            }
            return Text(element);
        }

        private static string? Text(JsonNode node) => Text(JsonSerializer.SerializeToElement(node));

        /// <summary>Envoy's MetadataCustomTag::value: strings as they are, numbers as absl::StrCat prints them, bool, lists and structs as JSON.</summary>
        private static string? Text(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => Number(value.GetDouble()),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Object or JsonValueKind.Array => JsonSerializer.Serialize(value),
            _ => null,
        };

        /// <summary>absl's StrCat of a double: six significant digits, <c>%g</c> style.</summary>
        internal static string Number(double value)
        {
            var text = value.ToString("G6", CultureInfo.InvariantCulture);
            var e = text.IndexOf('E', StringComparison.Ordinal);
            if (e < 0)
            {
                return text;
            }
            // %g writes the exponent with a sign and at least two digits: 1.23457e+06.
            var exponent = int.Parse(text.AsSpan(e + 1), CultureInfo.InvariantCulture);
            return string.Concat(text.AsSpan(0, e), "e", exponent < 0 ? "-" : "+", Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
    }
}
