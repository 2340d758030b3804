using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Formatting;

/// <summary>
/// Envoy's <c>DateFormatter</c>: strftime as absl's <c>FormatTime</c> reads it (with <c>%E#S</c>, <c>%E*S</c>, <c>%Ez</c>,
/// <c>%E*z</c>, <c>%E4Y</c>), plus Envoy's <c>%f</c> (nanoseconds, 9 digits), <c>%1f</c>..<c>%9f</c> (that many digits,
/// truncated) and <c>%s</c> (seconds since the epoch). As Envoy, the text that only changes once a second is made once
/// a second and kept; the sub-second digits are written into it on every call.
/// </summary>
internal sealed partial class DateFormatter
{
    /// <summary>Envoy's AccessLogDateTimeFormatter: <c>%START_TIME%</c> without a format.</summary>
    public const string DefaultUtcFormat = "%Y-%m-%dT%H:%M:%E3SZ";

    /// <summary>Envoy's local-time default (<c>%START_TIME_LOCAL%</c> without a format).</summary>
    public const string DefaultLocalFormat = "%Y-%m-%dT%H:%M:%E3S%z";

    private static readonly string[] ShortDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private static readonly string[] LongDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] ShortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] LongMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    // Per second: a piece of text for each run of specifiers that only change once a second.
    private readonly Piece[] _pieces;
    private readonly TimeZoneInfo _zone;
    private Cache? _cache;

    private DateFormatter(Piece[] pieces, TimeZoneInfo zone)
    {
        _pieces = pieces;
        _zone = zone;
    }

    /// <summary>Envoy's check that a time format cannot put a newline into a header value.</summary>
    [GeneratedRegex("%[-_0^#]*[1-9]*(E|O)?n")]
    private static partial Regex NewlinePattern();

    /// <summary>Compiles <paramref name="format"/>; null with <paramref name="error"/> set when Envoy would refuse it.</summary>
    public static DateFormatter? Create(string format, TimeZoneInfo zone, out string? error)
    {
        if (NewlinePattern().IsMatch(format))
        {
            error = "Invalid header configuration. Format string contains newline.";
            return null;
        }
        var pieces = new List<Piece>();
        var text = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%')
            {
                text.Append(c);
                continue;
            }
            if (i + 1 >= format.Length)
            {
                error = $"the time format '{format}' ends in a lone '%'";
                return null;
            }
            var next = format[i + 1];
            // %1f .. %9f, %f: sub-second digits (Envoy's own specifiers).
            if (next is >= '1' and <= '9' && i + 2 < format.Length && format[i + 2] == 'f')
            {
                Flush(pieces, text);
                pieces.Add(Piece.Subsecond(next - '0', trim: false));
                i += 2;
                continue;
            }
            if (next == 'f')
            {
                Flush(pieces, text);
                pieces.Add(Piece.Subsecond(9, trim: false));
                i += 1;
                continue;
            }
            // absl's %E#S (seconds with # digits), %E*S (seconds with as many digits as needed), %E#f / %E*f (digits only).
            if (next == 'E' && i + 3 < format.Length && (format[i + 2] is (>= '0' and <= '9') or '*') && format[i + 3] is 'S' or 'f')
            {
                var width = format[i + 2] == '*' ? 9 : format[i + 2] - '0';
                var trim = format[i + 2] == '*';
                if (format[i + 3] == 'S')
                {
                    text.Append("%S");
                    if (width > 0)
                    {
                        if (!trim)
                        {
                            text.Append('.');
                        }
                        Flush(pieces, text);
                        pieces.Add(Piece.Subsecond(width, trim, dot: trim));
                    }
                }
                else if (width > 0)
                {
                    Flush(pieces, text);
                    pieces.Add(Piece.Subsecond(width, trim));
                }
                i += 3;
                continue;
            }
            text.Append(c).Append(next);
            i += 1;
        }
        Flush(pieces, text);
        error = null;
        return new DateFormatter([.. pieces], zone);
    }

    private static void Flush(List<Piece> pieces, StringBuilder text)
    {
        if (text.Length > 0)
        {
            pieces.Add(Piece.PerSecond(text.ToString()));
            text.Clear();
        }
    }

    /// <summary>Appends <paramref name="time"/> formatted.</summary>
    public void Append(DateTimeOffset time, StringBuilder output)
    {
        var utcTicks = time.UtcTicks;
        var second = Math.DivRem(utcTicks - DateTime.UnixEpoch.Ticks, TimeSpan.TicksPerSecond, out var subTicks);
        if (subTicks < 0)
        {
            second--;
            subTicks += TimeSpan.TicksPerSecond;
        }
        var cache = Volatile.Read(ref _cache);
        if (cache is null || cache.Second != second)
        {
            cache = new Cache(second, FormatSecond(new DateTimeOffset(utcTicks - subTicks, TimeSpan.Zero), second));
            Volatile.Write(ref _cache, cache);
        }
        // Nanoseconds within the second (a tick is 100 ns), as Envoy's 9 digits.
        var nanos = subTicks * 100;
        Span<char> digits = stackalloc char[9];
        nanos.TryFormat(digits, out _, "D9", CultureInfo.InvariantCulture);
        for (var i = 0; i < _pieces.Length; i++)
        {
            var piece = _pieces[i];
            if (piece.Width == 0)
            {
                output.Append(cache.Texts[i]);
                continue;
            }
            var take = digits[..piece.Width];
            if (piece.Trim)
            {
                take = take.TrimEnd('0');
                if (take.IsEmpty)
                {
                    continue;
                }
                if (piece.Dot)
                {
                    output.Append('.');
                }
            }
            output.Append(take);
        }
    }

    private string?[] FormatSecond(DateTimeOffset utc, long epochSecond)
    {
        var local = ReferenceEquals(_zone, TimeZoneInfo.Utc) ? utc : TimeZoneInfo.ConvertTime(utc, _zone);
        var texts = new string?[_pieces.Length];
        var builder = new StringBuilder();
        for (var i = 0; i < _pieces.Length; i++)
        {
            if (_pieces[i].Width == 0)
            {
                builder.Clear();
                Strftime(builder, _pieces[i].Text!, local, epochSecond, _zone);
                texts[i] = builder.ToString();
            }
        }
        return texts;
    }

    private static void Strftime(StringBuilder output, string format, DateTimeOffset t, long epochSecond, TimeZoneInfo zone)
    {
        var culture = CultureInfo.InvariantCulture;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                output.Append(c);
                continue;
            }
            var spec = format[++i];
            // glibc's flags and the E/O modifiers change nothing in the C locale, except absl's %Ez, %E*z and %E4Y.
            if (spec == 'E' && i + 1 < format.Length)
            {
                if (format[i + 1] == 'z')
                {
                    Offset(output, t.Offset, colon: true, seconds: false);
                    i++;
                    continue;
                }
                if (format[i + 1] == '*' && i + 2 < format.Length && format[i + 2] == 'z')
                {
                    Offset(output, t.Offset, colon: true, seconds: true);
                    i += 2;
                    continue;
                }
                if (format[i + 1] == '4' && i + 2 < format.Length && format[i + 2] == 'Y')
                {
                    output.Append(t.Year.ToString("D4", culture));
                    i += 2;
                    continue;
                }
                spec = format[++i];
            }
            else if (spec == 'O' && i + 1 < format.Length)
            {
                spec = format[++i];
            }
            switch (spec)
            {
                case 'a': output.Append(ShortDays[(int)t.DayOfWeek]); break;
                case 'A': output.Append(LongDays[(int)t.DayOfWeek]); break;
                case 'b' or 'h': output.Append(ShortMonths[t.Month - 1]); break;
                case 'B': output.Append(LongMonths[t.Month - 1]); break;
                case 'c':
                    Strftime(output, "%a %b %e %H:%M:%S %Y", t, epochSecond, zone);
                    break;
                case 'C': output.Append((t.Year / 100).ToString("D2", culture)); break;
                case 'd': output.Append(t.Day.ToString("D2", culture)); break;
                case 'D' or 'x': Strftime(output, "%m/%d/%y", t, epochSecond, zone); break;
                case 'e': output.Append(t.Day.ToString(culture).PadLeft(2)); break;
                case 'F': Strftime(output, "%Y-%m-%d", t, epochSecond, zone); break;
                case 'g': output.Append((ISOWeek.GetYear(t.DateTime) % 100).ToString("D2", culture)); break;
                case 'G': output.Append(ISOWeek.GetYear(t.DateTime).ToString(culture)); break;
                case 'H': output.Append(t.Hour.ToString("D2", culture)); break;
                case 'I': output.Append(Hour12(t.Hour).ToString("D2", culture)); break;
                case 'j': output.Append(t.DayOfYear.ToString("D3", culture)); break;
                case 'k': output.Append(t.Hour.ToString(culture).PadLeft(2)); break;
                case 'l': output.Append(Hour12(t.Hour).ToString(culture).PadLeft(2)); break;
                case 'm': output.Append(t.Month.ToString("D2", culture)); break;
                case 'M': output.Append(t.Minute.ToString("D2", culture)); break;
                case 'p': output.Append(t.Hour < 12 ? "AM" : "PM"); break;
                case 'r': Strftime(output, "%I:%M:%S %p", t, epochSecond, zone); break;
                case 'R': Strftime(output, "%H:%M", t, epochSecond, zone); break;
                case 's': output.Append(epochSecond); break;
                case 'S': output.Append(t.Second.ToString("D2", culture)); break;
                case 't': output.Append('\t'); break;
                case 'T' or 'X': Strftime(output, "%H:%M:%S", t, epochSecond, zone); break;
                case 'u': output.Append(t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek); break;
                case 'U': output.Append(((t.DayOfYear + 6 - (int)t.DayOfWeek) / 7).ToString("D2", culture)); break;
                case 'V': output.Append(ISOWeek.GetWeekOfYear(t.DateTime).ToString("D2", culture)); break;
                case 'w': output.Append((int)t.DayOfWeek); break;
                case 'W': output.Append(((t.DayOfYear + 6 - ((int)t.DayOfWeek + 6) % 7) / 7).ToString("D2", culture)); break;
                case 'y': output.Append((t.Year % 100).ToString("D2", culture)); break;
                case 'Y': output.Append(t.Year.ToString(culture)); break;
                case 'z': Offset(output, t.Offset, colon: false, seconds: false); break;
                case 'Z': output.Append(ZoneName(zone, t)); break;
                case '%': output.Append('%'); break;
                default:
                    // strftime leaves an unknown conversion as written.
                    output.Append('%').Append(spec);
                    break;
            }
        }
    }

    private static int Hour12(int hour) => hour % 12 == 0 ? 12 : hour % 12;

    private static void Offset(StringBuilder output, TimeSpan offset, bool colon, bool seconds)
    {
        output.Append(offset < TimeSpan.Zero ? '-' : '+');
        var abs = offset.Duration();
        output.Append(((int)abs.TotalHours).ToString("D2", CultureInfo.InvariantCulture));
        if (colon)
        {
            output.Append(':');
        }
        output.Append(abs.Minutes.ToString("D2", CultureInfo.InvariantCulture));
        if (seconds)
        {
            output.Append(':').Append(abs.Seconds.ToString("D2", CultureInfo.InvariantCulture));
        }
    }

    private static string ZoneName(TimeZoneInfo zone, DateTimeOffset t)
    {
        if (ReferenceEquals(zone, TimeZoneInfo.Utc) || zone.Id is "UTC" or "Etc/UTC")
        {
            return "UTC";
        }
        return zone.IsDaylightSavingTime(t) ? zone.DaylightName : zone.StandardName;
    }

    private readonly record struct Piece(string? Text, int Width, bool Trim, bool Dot)
    {
        public static Piece PerSecond(string text) => new(text, 0, false, false);

        public static Piece Subsecond(int width, bool trim, bool dot = false) => new(null, width, trim, dot);
    }

    private sealed class Cache(long second, string?[] texts)
    {
        public long Second { get; } = second;

        public string?[] Texts { get; } = texts;
    }
}
