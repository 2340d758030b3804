using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gateway.Listeners;

/// <summary>
/// One of a connection manager's <c>original_ip_detection_extensions</c> (Envoy's OriginalIPDetection::detect), asked in
/// order, without <c>use_remote_address</c>, for the client's address: the first that finds one decides; one may refuse
/// the request instead (<see cref="Detection.RejectStatus"/>).
/// </summary>
internal abstract class OriginalIpDetector
{
    /// <summary>What one detector found.</summary>
    /// <param name="Address">The client's address, or null.</param>
    /// <param name="AllowTrustedAddressChecks">The address may make the request internal (<c>internal_address_config</c>).</param>
    /// <param name="RejectStatus">Not null: the request is answered with this status (and no body) instead.</param>
    public readonly record struct Detection(IPAddress? Address, bool AllowTrustedAddressChecks, int? RejectStatus);

    public abstract Detection Detect(IHeaderDictionary headers);

    /// <summary>The detectors of a connection manager's plan, or null without any.</summary>
    public static OriginalIpDetector[]? From(IReadOnlyList<Translation.OriginalIpDetectionPlan>? plans)
    {
        if (plans is null)
        {
            return null;
        }
        var detectors = new OriginalIpDetector[plans.Count];
        for (var i = 0; i < detectors.Length; i++)
        {
            var plan = plans[i];
            detectors[i] = plan.HeaderName is { } header
                ? new CustomHeaderIpDetector(header, plan.AllowExtensionToSetAddressAsTrusted, plan.RejectWithStatus)
                : new XffIpDetector(plan.XffNumTrustedHops);
        }
        return detectors;
    }
}

/// <summary>
/// <c>envoy.http.original_ip_detection.custom_header</c>: the first value of one header, when it is an IP address
/// (inet_pton's forms, no port); otherwise nothing, or the configured rejection.
/// </summary>
internal sealed class CustomHeaderIpDetector(string headerName, bool allowTrustedAddressChecks, int? rejectStatus) : OriginalIpDetector
{
    public override Detection Detect(IHeaderDictionary headers)
    {
        var values = headers[headerName];
        var address = values.Count == 0 ? null : RequestHeaderMutation.ParseInternetAddress(values[0].AsSpan());
        return address is null ? new Detection(null, false, rejectStatus) : new Detection(address, allowTrustedAddressChecks, null);
    }
}

/// <summary><c>envoy.http.original_ip_detection.xff</c>: Envoy's getLastAddressFromXFF with its own trusted hops.</summary>
internal sealed class XffIpDetector(uint trustedHops) : OriginalIpDetector
{
    public override Detection Detect(IHeaderDictionary headers)
    {
        var address = RequestHeaderMutation.LastAddressFromXff(headers[RequestHeaderMutation.ForwardedFor], trustedHops, out var single);
        return new Detection(address, address is not null && single, null);
    }
}
