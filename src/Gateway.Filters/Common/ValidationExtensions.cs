using Gateway.Configuration;

namespace Gateway.Filters.Common;

/// <summary>Filter validation that reports one mistake once, as the Core validators do (Core's public <see cref="HttpFilterValidationContext"/> overloads).</summary>
internal static class ValidationExtensions
{
    /// <summary>An error at <paramref name="field"/> of <paramref name="owner"/>, dropped when the binder already refused that field.</summary>
    public static void FieldError(this HttpFilterValidationContext context, EnvoyMessage owner, string field, string message)
        => context.Error(owner, field, message);

    /// <summary>An error about a whole message, dropped when the binder refused any of its fields.</summary>
    public static void MessageError(this HttpFilterValidationContext context, EnvoyMessage owner, string message)
        => context.Error(owner, message);
}
