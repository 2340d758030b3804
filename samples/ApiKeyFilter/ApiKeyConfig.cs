using Gateway.Configuration;

namespace Acme.Gateway.ApiKey;

/// <summary>
/// <c>acme.filters.http.api_key.v1.ApiKey</c>: the filter's configuration, as it would be declared in a
/// <c>.proto</c> (field numbers in <see cref="ProtoFieldAttribute"/>, so <c>/config_dump</c> prints it in order).
/// </summary>
[EnvoyType("acme.filters.http.api_key.v1.ApiKey")]
public sealed class ApiKeyConfig : EnvoyMessage
{
    /// <summary>The default <see cref="HeaderName"/>.</summary>
    public const string DefaultHeaderName = "x-api-key";

    /// <summary>The request header carrying the key; <c>x-api-key</c> when not set.</summary>
    [ProtoField(1)]
    public string? HeaderName { get; set; }

    /// <summary>The keys that are let through (at least one).</summary>
    [ProtoField(2)]
    public List<string> AllowedKeys { get; set; } = [];
}

/// <summary>
/// <c>acme.filters.http.api_key.v1.ApiKeyPerRoute</c>, in <c>typed_per_filter_config</c>: turns the check off for a
/// route (or virtual host), or asks for a different set of keys there. Exactly one of the two fields.
/// </summary>
[EnvoyType("acme.filters.http.api_key.v1.ApiKeyPerRoute")]
public sealed class ApiKeyPerRoute : EnvoyMessage
{
    /// <summary>No key is needed here.</summary>
    [ProtoField(1)]
    public bool Disabled { get; set; }

    /// <summary>The keys let through here, instead of the filter's.</summary>
    [ProtoField(2)]
    public List<string> AllowedKeys { get; set; } = [];
}
