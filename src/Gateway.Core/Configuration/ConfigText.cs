using System.Text;
using System.Text.Unicode;

namespace Gateway.Configuration;

/// <summary>
/// Decodes a configuration file. UTF-8 unless a byte order mark says UTF-16 or UTF-32 (as YAML
/// allows); bytes that are not valid in that encoding are a config error with their position,
/// never silently replaced (a replaced byte inside a name or a header value would be loaded as a
/// different value than the file holds).
/// </summary>
internal static class ConfigText
{
    public static string Decode(string path, byte[] bytes)
    {
        var span = bytes.AsSpan();
        Encoding? wide = span switch
        {
            [0xFF, 0xFE, 0x00, 0x00, ..] => new UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true),
            [0x00, 0x00, 0xFE, 0xFF, ..] => new UTF32Encoding(bigEndian: true, byteOrderMark: false, throwOnInvalidCharacters: true),
            [0xFF, 0xFE, ..] => new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true),
            [0xFE, 0xFF, ..] => new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true),
            _ => null,
        };
        if (wide is not null)
        {
            var bom = wide is UTF32Encoding ? 4 : 2;
            try
            {
                return wide.GetString(span[bom..]);
            }
            catch (DecoderFallbackException)
            {
                throw Invalid(path, 0, 0, $"the file starts with a {wide.WebName} byte order mark but is not valid {wide.WebName}");
            }
        }

        if (span is [0xEF, 0xBB, 0xBF, ..])
        {
            span = span[3..];
        }
        if (Utf8.IsValid(span))
        {
            return Encoding.UTF8.GetString(span);
        }
        var index = FirstInvalidUtf8(span);
        var lineStart = span[..index].LastIndexOf((byte)'\n') + 1;
        var line = span[..index].Count((byte)'\n') + 1;
        var column = Encoding.UTF8.GetCharCount(span[lineStart..index]) + 1;
        var shown = Convert.ToHexString(span.Slice(index, Math.Min(4, span.Length - index)));
        throw Invalid(path, line, column, $"invalid UTF-8 (bytes 0x{shown}): a configuration file must be UTF-8, or UTF-16/UTF-32 with a byte order mark");
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var index = 0;
        while (index < bytes.Length && Rune.DecodeFromUtf8(bytes[index..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            index += consumed;
        }
        return index;
    }

    private static EnvoyConfigException Invalid(string path, int line, int column, string message)
        => new([new ConfigError(new SourceLocation(path, string.Empty, line, column), message)]);
}
