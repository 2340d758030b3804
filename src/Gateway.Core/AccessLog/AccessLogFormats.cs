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

    /// <summary>A validated file logger's format, compiled when the listener is built (with the gateway's clock and random source).</summary>
    public static AccessLogFormat Compile(FileAccessLog file)
        => new((options, context) => Compile(file, context, options));

    /// <summary>A validated <c>log_format</c> (or the default line), compiled when the listener is built.</summary>
    public static AccessLogFormat Compile(SubstitutionFormatString? format)
        => new((options, context) => SubstitutionFormatter.Compile(format, SubstitutionFormatter.DefaultFormat, context, options) is { } compiled ? new Adapter(compiled) : null);

    private static Adapter? Compile(FileAccessLog file, ValidationContext context, FormatterOptions? options = null)
    {
        if (file.Format is { } text)
        {
            return SubstitutionFormatter.Compile(text, context, file, "format", options) is { } compiled ? new Adapter(compiled) : null;
        }
        if (file.JsonFormat is not null)
        {
            // Envoy's deprecated json_format prints every value as a string; typed_json_format / log_format.json_format are the supported spellings.
            context.Error(file, "json_format", "'json_format' is not supported by this gateway; use 'log_format: { json_format: ... }' (typed values, as 'typed_json_format')");
            return null;
        }
        var model = file.TypedJsonFormat is { } json ? new SubstitutionFormatString { JsonFormat = json } : file.LogFormat;
        return SubstitutionFormatter.Compile(model, SubstitutionFormatter.DefaultFormat, context, options) is { } formatter ? new Adapter(formatter) : null;
    }

    // Translation compiles what validation accepted; its errors cannot occur, so they go nowhere.
    internal static ValidationContext Scratch() => new(EnvoyTypeRegistry.CreateDefault());

    /// <summary>The substitution formatter as an access log formatter.</summary>
    private sealed class Adapter(SubstitutionFormatter formatter) : IAccessLogFormatter
    {
        public bool NeedsBodyBytes => formatter.NeedsBodyBytes;

        public void Format(in AccessLogContext context, StringBuilder output)
        {
            var info = context.StreamInfo;
            var http = info is null || info.IsConnection ? null : info.HttpContext;
            formatter.Format(new FormatterContext(http, info, context.RequestHeaders, context.ResponseHeaders, context.ResponseTrailers, http?.Connection ?? context.Connection, context.Type), output);
        }
    }
}

/// <summary>
/// A logger's validated format, compiled per listener build: <c>%EMIT_TIME%</c> and <c>%UNIQUE_ID%</c> read the
/// gateway's <see cref="TimeProvider"/> and <see cref="Random"/>, which the pure translation does not have.
/// </summary>
internal sealed class AccessLogFormat
{
    private readonly Func<FormatterOptions, ValidationContext, IAccessLogFormatter?> _compile;
    private readonly IAccessLogFormatter _default;

    public AccessLogFormat(Func<FormatterOptions, ValidationContext, IAccessLogFormatter?> compile)
    {
        _compile = compile;
        // Compiled once here to learn what the connection manager must count; the format passed validation, so it compiles.
        _default = Create(FormatterOptions.Default);
        NeedsBodyBytes = _default.NeedsBodyBytes;
    }

    /// <summary>True when the format reads the body byte counts.</summary>
    public bool NeedsBodyBytes { get; }

    /// <summary>
    /// The formatter with <paramref name="options"/>' clock and random source. The gateway's usual ones are the system
    /// clock and the shared random source: then the formatter compiled with the plan serves (formats are compiled once).
    /// </summary>
    public IAccessLogFormatter For(FormatterOptions options)
        => ReferenceEquals(options.Time, FormatterOptions.Default.Time) && ReferenceEquals(options.Random, FormatterOptions.Default.Random)
            && ReferenceEquals(options.LocalZone, FormatterOptions.Default.LocalZone) && options.HostName is null
            ? _default
            : Create(options);

    private IAccessLogFormatter Create(FormatterOptions options)
        => _compile(options, AccessLogFormats.Scratch()) ?? throw new InvalidOperationException("a validated access log format compiles");
}
