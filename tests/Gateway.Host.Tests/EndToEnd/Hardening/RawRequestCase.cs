using System.Text;

namespace Gateway.Tests.EndToEnd.Hardening;

/// <summary>What the upstream must have parsed for a case: a method and the exact request target, plus a check.</summary>
public sealed record ExpectedUpstream(string Method, string Target, Action<UpstreamRequest>? Check = null);

/// <summary>
/// One raw HTTP/1.1 exchange of the battery: the bytes to write (each element one write, sent back to back), the
/// statuses Envoy answers on that connection in order (<see cref="Source"/> says where in Envoy that comes from),
/// the requests the upstream must parse (in order; none for a refused request) and whether Envoy closes the
/// connection after the last answer. <see cref="Tag"/> is sent as <c>x-case</c> in every request of the case.
/// </summary>
public sealed record RawRequestCase(
    string Name,
    string Source,
    IReadOnlyList<byte[]> Writes,
    IReadOnlyList<int> Statuses,
    IReadOnlyList<ExpectedUpstream> Upstream,
    bool ServerCloses = false,
    bool WaitFor100BeforeLastWrite = false)
{
    public string Tag => Name;

    public override string ToString() => Name;

    /// <summary>Latin-1 text with <c>{tag}</c> replaced by the case tag: one write.</summary>
    public static byte[] Text(string latin1, string tag) => Encoding.Latin1.GetBytes(latin1.Replace("{tag}", tag, StringComparison.Ordinal));
}
