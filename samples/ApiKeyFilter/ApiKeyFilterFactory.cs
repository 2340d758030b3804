using Gateway.Configuration;
using Gateway.Filters;

namespace Acme.Gateway.ApiKey;

/// <summary>
/// <c>acme.filters.http.api_key</c>: register it with <c>AddHttpFilter(new ApiKeyFilterFactory())</c> (on the
/// <c>IEnvoyGatewayBuilder</c>, or on the <c>EnvoyTypeRegistry</c> of <c>GatewayProgram.RunAsync</c>).
/// </summary>
public sealed class ApiKeyFilterFactory : HttpFilterFactory<ApiKeyConfig, ApiKeyPerRoute>
{
    /// <summary>The filter's name.</summary>
    public const string FilterName = "acme.filters.http.api_key";

    /// <inheritdoc />
    public override string Name => FilterName;

    /// <inheritdoc />
    protected override void Validate(ApiKeyConfig config, HttpFilterValidationContext context)
    {
        if (config.HeaderName is { } header && !IsHeaderName(header))
        {
            context.Error(config, "header_name", $"'{header}' is not a valid HTTP header name (lower-case token characters)");
        }
        if (config.AllowedKeys.Count == 0)
        {
            context.Error(config, "allowed_keys", "'allowed_keys' needs at least one key");
        }
        ValidateKeys(config, config.AllowedKeys, context);
    }

    /// <inheritdoc />
    protected override void ValidateRouteConfig(ApiKeyPerRoute config, HttpFilterValidationContext context)
    {
        if (config.Disabled == (config.AllowedKeys.Count > 0))
        {
            context.Error(config, "allowed_keys", config.Disabled
                ? "set either 'disabled' or 'allowed_keys', not both"
                : "set 'disabled: true' or a non-empty 'allowed_keys'");
        }
        ValidateKeys(config, config.AllowedKeys, context);
    }

    /// <inheritdoc />
    protected override IHttpFilter CreateFilter(ApiKeyConfig config, HttpFilterFactoryContext context)
        => new ApiKeyFilter(
            config.HeaderName ?? ApiKeyConfig.DefaultHeaderName,
            [.. config.AllowedKeys],
            // Every handle is resolved here, once per configuration: the request path only increments.
            context.Stats.Counter("api_key.allowed"),
            context.Stats.Counter("api_key.denied"));

    /// <inheritdoc />
    protected override object CreateRouteConfig(ApiKeyPerRoute config, HttpFilterFactoryContext context)
        => new ApiKeyRoute(config.Disabled, [.. config.AllowedKeys]);

    private static void ValidateKeys(EnvoyMessage owner, List<string> keys, HttpFilterValidationContext context)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            if (string.IsNullOrEmpty(keys[i]))
            {
                context.Error(owner, "allowed_keys", $"allowed_keys[{i}] is empty");
            }
        }
    }

    private static bool IsHeaderName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }
        foreach (var c in name)
        {
            var token = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!token)
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>A compiled <see cref="ApiKeyPerRoute"/>.</summary>
internal sealed class ApiKeyRoute(bool disabled, string[] keys)
{
    public bool Disabled { get; } = disabled;

    public string[] Keys { get; } = keys;
}
