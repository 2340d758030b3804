namespace Gateway.Configuration;

/// <summary>The targets this gateway's own gRPC client reaches (<c>google_grpc.target_uri</c> of an xDS source).</summary>
internal static class GrpcTarget
{
    /// <summary>A <c>google_grpc.target_uri</c>: <c>host:port</c>, <c>dns:///host:port</c>, or an <c>http://</c> address.</summary>
    public static bool TryParse(string target, out Uri? address)
    {
        address = null;
        var text = target.StartsWith("dns:///", StringComparison.Ordinal) ? target["dns:///".Length..] : target;
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var http) && http.AbsolutePath == "/" && string.IsNullOrEmpty(http.Query))
            {
                address = http;
            }
            return address is not null;
        }
        // host:port, the port explicit (gRPC's targets have no default port).
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            && port is > 0 and <= 65535
            && Uri.TryCreate("http://" + text + "/", UriKind.Absolute, out var plain) && plain.AbsolutePath == "/" && plain.Port == port
            && string.IsNullOrEmpty(plain.UserInfo))
        {
            address = plain;
        }
        return address is not null;
    }
}
