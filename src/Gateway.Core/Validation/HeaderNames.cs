using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>Headers given by name and value (a collector's <c>request_headers_to_add</c>, a gRPC service's <c>initial_metadata</c>).</summary>
internal static class HeaderNames
{
    /// <summary>Each header has a key that is a header name.</summary>
    public static void Validate(List<HeaderValue> headers, ValidationContext context)
    {
        foreach (var header in headers)
        {
            if (string.IsNullOrEmpty(header.Key))
            {
                context.Error(header, "key", "'key' is required");
            }
            else if (!IsHeaderName(header.Key))
            {
                context.Error(header, "key", $"'{header.Key}' is not a valid header name");
            }
        }
    }

    // RFC 9110 token characters.
    private static bool IsHeaderName(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }
}
