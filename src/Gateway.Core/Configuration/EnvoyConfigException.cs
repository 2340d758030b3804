namespace Gateway.Configuration;

/// <summary>Thrown when a configuration cannot be used; carries every error that was found, not just the first.</summary>
public sealed class EnvoyConfigException : Exception
{
    /// <summary>Creates the exception from the collected errors.</summary>
    public EnvoyConfigException(IReadOnlyList<ConfigError> errors)
        : this(errors, omittedErrorCount: 0)
    {
    }

    /// <summary>Creates the exception from the first errors found and the number of further errors left out.</summary>
    public EnvoyConfigException(IReadOnlyList<ConfigError> errors, int omittedErrorCount)
        : base(FormatMessage(errors, omittedErrorCount))
    {
        ArgumentOutOfRangeException.ThrowIfNegative(omittedErrorCount);
        Errors = errors;
        OmittedErrorCount = omittedErrorCount;
    }

    /// <summary>The errors found, in document order (the first 100 when there were more).</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>How many errors were found beyond <see cref="Errors"/> and not reported.</summary>
    public int OmittedErrorCount { get; }

    private static string FormatMessage(IReadOnlyList<ConfigError> errors, int omitted)
    {
        if (errors.Count == 1 && omitted == 0)
        {
            return errors[0].ToString();
        }
        var message = $"{errors.Count + omitted} errors:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => "  " + e));
        return omitted == 0
            ? message
            : message + $"{Environment.NewLine}  ... and {omitted} more (only the first {errors.Count} errors are reported)";
    }
}
