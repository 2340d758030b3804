using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Envoy's checks of a <c>config.core.v3.DataSource</c> read when the configuration is applied.</summary>
internal static class DataSources
{
    /// <summary>Exactly one specifier, and a file or environment variable that exists.</summary>
    /// <returns>True when the source is readable (its size can be checked).</returns>
    public static bool Validate(ValidationContext context, DataSource source)
    {
        var specifiers = (source.Filename is null ? 0 : 1) + (source.InlineBytes is null ? 0 : 1) + (source.InlineString is null ? 0 : 1) + (source.EnvironmentVariable is null ? 0 : 1);
        if (specifiers != 1)
        {
            context.Error(source, "a data source needs exactly one of filename, inline_bytes, inline_string, environment_variable");
            return false;
        }
        var errors = context.Errors.Count;
        if (source.Filename is { } file && !File.Exists(file))
        {
            context.Error(source, "filename", $"Invalid path: {file}");
        }
        if (source.EnvironmentVariable is { } variable && Environment.GetEnvironmentVariable(variable) is null)
        {
            context.Error(source, "environment_variable", $"Environment variable doesn't exist: {variable}");
        }
        if (source.InlineBytes is { } bytes && !Convert.TryFromBase64String(bytes, new byte[bytes.Length], out _))
        {
            context.Error(source, "inline_bytes", "'inline_bytes' must be base64");
        }
        return context.Errors.Count == errors;
    }
}
