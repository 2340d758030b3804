using System.Collections.Concurrent;
using System.Reflection;

namespace Gateway.Configuration;

/// <summary>The fields of one model class, as Envoy spells them, found once by reflection.</summary>
internal sealed class MessageSchema
{
    private static readonly ConcurrentDictionary<Type, MessageSchema> Cache = new();

    private readonly Dictionary<string, SchemaField> _fields = new(StringComparer.Ordinal);
    private readonly Dictionary<int, SchemaField> _byNumber = [];

    private MessageSchema(Type type)
    {
        var attribute = type.GetCustomAttribute<EnvoyTypeAttribute>()
            ?? throw new InvalidOperationException($"{type} has no [EnvoyType] attribute.");
        FullName = attribute.FullName;
        NotSupported = new HashSet<string>(attribute.NotSupported, StringComparer.Ordinal);

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.DeclaringType == typeof(EnvoyMessage) || property.SetMethod is null)
            {
                continue;
            }
            var name = property.GetCustomAttribute<EnvoyFieldAttribute>()?.Name ?? EnvoyNames.ToSnakeCase(property.Name);
            var any = property.GetCustomAttribute<AnyFieldAttribute>();
            var declared = property.GetCustomAttribute<ProtoFieldAttribute>();
            var info = ProtoFieldNumbers.Find(FullName, name)
                ?? (declared is not null ? new ProtoFieldNumbers.FieldInfo(declared.Number, declared.InOneOf) : null);
            var field = new SchemaField(name, property, any is not null, any?.Category ?? EnvoyTypeCategory.Other)
            {
                ProtoNumber = info?.Number,
                ProtoInOneOf = info?.InOneOf ?? false,
                IsBytes = property.IsDefined(typeof(ProtoBytesAttribute)),
            };
            _fields[name] = field;
            if (info is { Number: var number })
            {
                _byNumber.TryAdd(number, field);
            }
            _fields.TryAdd(EnvoyNames.ToLowerCamelCase(name), field);
        }
        Fields = _fields.Values.Distinct().ToArray();
    }

    /// <summary>The protobuf full name.</summary>
    public string FullName { get; }

    /// <summary>Recognised Envoy fields that are rejected as not supported.</summary>
    public IReadOnlySet<string> NotSupported { get; }

    /// <summary>Supported fields.</summary>
    public IReadOnlyList<SchemaField> Fields { get; }

    public static MessageSchema For(Type type) => Cache.GetOrAdd(type, static t => new MessageSchema(t));

    public bool TryGetField(string name, out SchemaField field) => _fields.TryGetValue(name, out field!);

    /// <summary>The supported field with protobuf field number <paramref name="number"/>.</summary>
    public bool TryGetField(int number, out SchemaField field) => _byNumber.TryGetValue(number, out field!);
}

/// <summary>One supported field: its snake_case name and the property behind it.</summary>
internal sealed record SchemaField(string Name, PropertyInfo Property, bool IsAny, EnvoyTypeCategory AnyCategory)
{
    /// <summary>The protobuf field number (<see cref="ProtoFieldNumbers"/>, or the model's <see cref="ProtoFieldAttribute"/>).</summary>
    public int? ProtoNumber { get; init; }

    /// <summary>True for a member of a one-of.</summary>
    public bool ProtoInOneOf { get; init; }

    /// <summary>True for a protobuf <c>bytes</c> field (base64 text in the model, as in JSON and YAML).</summary>
    public bool IsBytes { get; init; }
}
