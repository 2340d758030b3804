namespace Gateway.Configuration;

/// <summary>Thrown when a configuration cannot be used; carries every error that was found, not just the first.</summary>
public sealed class EnvoyConfigException : Exception
{
    /// <summary>Creates the exception from the collected errors.</summary>
    public EnvoyConfigException(IReadOnlyList<ConfigError> errors)
        : base(FormatMessage(errors))
    {
        Errors = errors;
    }

    /// <summary>Every error found, in document order.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    private static string FormatMessage(IReadOnlyList<ConfigError> errors)
        => errors.Count == 1
            ? errors[0].ToString()
            : $"{errors.Count} errors:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => "  " + e));
}
