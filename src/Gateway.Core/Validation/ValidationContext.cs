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

    /// <summary>
    /// False when a cluster did not bind or has no name: a reference to a name that is not in <see cref="ClusterNames"/>
    /// may then be to that cluster, so it is not reported.
    /// </summary>
    public bool ClusterNamesComplete { get; set; } = true;

    /// <summary>TCP ports bound so far (admin, then listeners), with where, for port clashes.</summary>
    public Dictionary<uint, SourceLocation> Ports { get; } = [];

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
