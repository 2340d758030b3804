namespace Gateway.Listeners;

/// <summary>
/// A chain's non-terminal network filter as a new connection meets it (Envoy's onNewConnection): it admits the
/// connection, or refuses it (the connection is closed, after <see cref="Delay"/>, before anything is read). Filters
/// run in the chain's order; a connection refused by one never reaches the next.
/// </summary>
internal abstract class ConnectionAdmission
{
    /// <summary>How long a refused connection is held before it is closed; null: closed at once.</summary>
    public virtual TimeSpan? Delay => null;

    /// <summary>Admits the connection (true) or refuses it, counting and marking <paramref name="connection"/>'s stream info.</summary>
    public abstract bool TryAdmit(RequestStreamInfo? connection);

    /// <summary>An admitted connection closed.</summary>
    public virtual void Release()
    {
    }
}
