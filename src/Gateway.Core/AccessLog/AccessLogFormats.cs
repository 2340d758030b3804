using System.Text;
using Gateway.Configuration;
using Gateway.Formatting;
using Gateway.Validation;

namespace Gateway.AccessLog;

/// <summary>
/// The one seam between the access loggers and the substitution formatter (Formatting/): checks and compiles a
/// logger's format (<c>log_format</c>, or FileAccessLog's deprecated <c>format</c> and <c>typed_json_format</c>),
/// Envoy's default line when none is given.
/// </summary>
internal static class AccessLogFormats
{
    /// <summary>Checks a file logger's format.</summary>
    public static void Validate(FileAccessLog file, ValidationContext context) => Compile(file, context);

    /// <summary>Checks a stream logger's <c>log_format</c>.</summary>
    public static void Validate(SubstitutionFormatString? format, EnvoyMessage owner, string field, ValidationContext context)
        => SubstitutionFormatter.Compile(format, SubstitutionFormatter.DefaultFormat, context);

    /// <summary>Compiles a validated file logger's format.</summary>
    public static IAccessLogFormatter Compile(FileAccessLog file)
        => Compile(file, Scratch()) ?? throw new InvalidOperationException("a validated access log format compiles");

    /// <summary>Compiles a validated <c>log_format</c> (or the default line).</summary>
    public static IAccessLogFormatter Compile(SubstitutionFormatString? format)
        => new Adapter(SubstitutionFormatter.Compile(format, SubstitutionFormatter.DefaultFormat, Scratch())
            ?? throw new InvalidOperationException("a validated access log format compiles"));

    private static Adapter? Compile(FileAccessLog file, ValidationContext context)
    {
        if (file.Format is { } text)
        {
            return SubstitutionFormatter.Compile(text, context, file, "format") is { } compiled ? new Adapter(compiled) : null;
        }
        if (file.JsonFormat is not null)
        {
            // Envoy's deprecated json_format prints every value as a string; typed_json_format / log_format.json_format are the supported spellings.
            context.Error(file, "json_format", "'json_format' is not supported by this gateway; use 'log_format: { json_format: ... }' (typed values, as 'typed_json_format')");
            return null;
        }
        var model = file.TypedJsonFormat is { } json ? new SubstitutionFormatString { JsonFormat = json } : file.LogFormat;
        return SubstitutionFormatter.Compile(model, SubstitutionFormatter.DefaultFormat, context) is { } formatter ? new Adapter(formatter) : null;
    }

    // Translation compiles what validation accepted; its errors cannot occur, so they go nowhere.
    private static ValidationContext Scratch() => new(EnvoyTypeRegistry.CreateDefault());

    /// <summary>The substitution formatter as an access log formatter.</summary>
    private sealed class Adapter(SubstitutionFormatter formatter) : IAccessLogFormatter
    {
        public bool NeedsBodyBytes => formatter.NeedsBodyBytes;

        public void Format(in AccessLogContext context, StringBuilder output)
        {
            var info = context.StreamInfo;
            var http = info?.HttpContext;
            formatter.Format(new FormatterContext(http, info, context.RequestHeaders, context.ResponseHeaders, context.ResponseTrailers, http?.Connection, context.Type), output);
        }
    }
}
