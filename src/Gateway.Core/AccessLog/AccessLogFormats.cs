using Gateway.Configuration;
using Gateway.Validation;

namespace Gateway.AccessLog;

/// <summary>
/// The one seam between the access loggers and the substitution formatter (Formatting/): checks and compiles a
/// logger's format (<c>log_format</c>, or FileAccessLog's deprecated <c>format</c>, <c>json_format</c>,
/// <c>typed_json_format</c>), Envoy's default line when none is given.
/// </summary>
internal static class AccessLogFormats
{
    /// <summary>Checks a file logger's format.</summary>
    public static void Validate(FileAccessLog file, ValidationContext context)
        => context.Error(file, "the access log formatter is not part of this build yet");

    /// <summary>Checks a stream logger's <c>log_format</c>.</summary>
    public static void Validate(SubstitutionFormatString? format, EnvoyMessage owner, string field, ValidationContext context)
        => context.Error(owner, "the access log formatter is not part of this build yet");

    /// <summary>Compiles a validated file logger's format.</summary>
    public static IAccessLogFormatter Compile(FileAccessLog file)
        => throw new InvalidOperationException("the access log formatter is not part of this build yet");

    /// <summary>Compiles a validated <c>log_format</c> (or the default line).</summary>
    public static IAccessLogFormatter Compile(SubstitutionFormatString? format)
        => throw new InvalidOperationException("the access log formatter is not part of this build yet");
}
