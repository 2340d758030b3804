using Gateway.Configuration;

namespace Gateway.Validation;

/// <summary>
/// What the per-area validators share during one validation: the errors found so far and the cross-cutting
/// facts (cluster names for references, bound ports for clashes, the type registry for extensions).
/// Errors tied to a field the binder already refused are dropped, so a mistake is reported once, by the
/// stage that found it first (see <see cref="EnvoyMessage.HasBindingError"/>).
/// </summary>
internal sealed class ValidationContext
{
    public ValidationContext(EnvoyTypeRegistry types) => Types = types;

    /// <summary>The registry the configuration was bound with: extensions (HTTP filters) are found through it.</summary>
    public EnvoyTypeRegistry Types { get; }

    /// <summary>The bootstrap's static secrets, which TLS contexts refer to by name.</summary>
    public Tls.TlsSecrets Secrets { get; set; } = Tls.TlsSecrets.Empty;

    public List<ConfigError> Errors { get; } = [];

    /// <summary>Names of the static clusters, for route references.</summary>
    public HashSet<string> ClusterNames { get; } = new(StringComparer.Ordinal);

    /// <summary>The assignments EDS gave (the configuration manager puts them on copies of their clusters to validate them).</summary>
    public HashSet<ClusterLoadAssignment> EdsAssignments { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Whether a route's cluster must exist (<c>validate_clusters</c>: Envoy's default is true for a route table given
    /// in place and false for one from RDS).
    /// </summary>
    public bool ValidateClusters { get; set; } = true;

    /// <summary>The bootstrap's <c>dynamic_resources.ads_config</c>: what a source's <c>ads: {}</c> means (null: no ADS stream).</summary>
    public ApiConfigSource? AdsConfig { get; set; }

    /// <summary>The bootstrap's own static clusters (not CDS's): the only ones an xDS stream may use (Envoy's rule).</summary>
    public IReadOnlyList<Cluster> BootstrapClusters { get; set; } = [];

    /// <summary>The static clusters by name (the first of a duplicated name), for checks that read a referenced cluster's settings.</summary>
    public Dictionary<string, Cluster> Clusters { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// False when a cluster did not bind or has no name: a reference to a name that is not in <see cref="ClusterNames"/>
    /// may then be to that cluster, so it is not reported.
    /// </summary>
    public bool ClusterNamesComplete { get; set; } = true;

    /// <summary>TCP ports bound so far (admin, then listeners), with where, for port clashes.</summary>
    public Dictionary<uint, SourceLocation> Ports { get; } = [];

    /// <summary>Settings Kestrel applies to the whole server, by field path: the first value set, with where.</summary>
    private readonly Dictionary<string, (string Value, SourceLocation Location)> _serverWide = new(StringComparer.Ordinal);

    /// <summary>
    /// Records a connection manager's setting that Kestrel applies to every listener at once (its limits are server-wide):
    /// a second connection manager setting another value is an error, since one of them would not get its own.
    /// </summary>
    public void ServerWide(EnvoyMessage owner, string field, string value) => ServerWide(owner, field, field, value);

    /// <summary>
    /// As <see cref="ServerWide(EnvoyMessage, string, string)"/>, for a setting named <paramref name="setting"/> that
    /// <paramref name="field"/> of <paramref name="owner"/> holds or, when unset, stands for with its default.
    /// </summary>
    public void ServerWide(EnvoyMessage owner, string field, string setting, string value)
    {
        if (owner.HasBindingError(field))
        {
            return;
        }
        if (!_serverWide.TryGetValue(setting, out var first))
        {
            _serverWide[setting] = (value, owner.LocationOf(field));
        }
        else if (!string.Equals(first.Value, value, StringComparison.Ordinal))
        {
            Error(owner, field, $"'{setting}' is {value} here but {first.Value} at {first.Location.Path} ({first.Location.Source}:{first.Location.Line}): Kestrel applies one value to every listener, so all connection managers must agree (an unset one has Envoy's default; see docs/compatibility.md)");
        }
    }

    /// <summary>
    /// As <see cref="ServerWide(EnvoyMessage, string, string, string)"/> for a setting of an options message that may be
    /// absent: its <paramref name="field"/> when <paramref name="options"/> sets it (<paramref name="value"/> not null),
    /// else Envoy's <paramref name="defaultValue"/>, located at <paramref name="parent"/>'s <paramref name="parentField"/>.
    /// </summary>
    public void ServerWide(EnvoyMessage? options, string field, string setting, string? value, EnvoyMessage parent, string parentField, string defaultValue)
    {
        if (value is not null)
        {
            ServerWide(options!, field, setting, value);
        }
        else
        {
            ServerWide(parent, parentField, setting, defaultValue);
        }
    }

    /// <summary>An error at a location that is not a field of a message (cross-resource checks).</summary>
    public void Error(SourceLocation location, string message) => Errors.Add(new ConfigError(location, message));

    /// <summary>An error about one field, at that field; dropped when binding refused the field.</summary>
    public void Error(EnvoyMessage owner, string field, string message)
    {
        if (!owner.HasBindingError(field))
        {
            Errors.Add(new ConfigError(owner.LocationOf(field), message));
        }
    }

    /// <summary>
    /// An error about a message as a whole (a one-of, a required member), at the message; dropped when binding
    /// refused any of its fields, since what the user meant it to hold is then unknown.
    /// </summary>
    public void Error(EnvoyMessage owner, string message)
    {
        if (!owner.HasBindingErrors)
        {
            Errors.Add(new ConfigError(owner.Location, message));
        }
    }

    /// <summary>True when binding refused <paramref name="field"/> of <paramref name="owner"/> (for checks that look through several messages).</summary>
    public static bool BindingFailed(EnvoyMessage? owner, string field) => owner is not null && owner.HasBindingError(field);
}
