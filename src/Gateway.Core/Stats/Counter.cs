namespace Gateway.Stats;

/// <summary>A monotonically increasing Envoy counter. Request paths hold the handle and only do <see cref="Interlocked"/> work.</summary>
public sealed class Counter
{
    private long _value;
    private int _used;

    internal Counter(string name) => Name = name;

    /// <summary>The full Envoy name, e.g. <c>cluster.httpbin_service.upstream_rq_total</c>.</summary>
    public string Name { get; }

    /// <summary>The current value.</summary>
    public long Value => Volatile.Read(ref _value);

    /// <summary>True once the counter has been incremented (Envoy's <c>usedonly</c>).</summary>
    public bool Used => Volatile.Read(ref _used) != 0;

    /// <summary>Adds one.</summary>
    public void Increment() => Add(1);

    /// <summary>Adds <paramref name="amount"/>.</summary>
    public void Add(long amount)
    {
        Interlocked.Add(ref _value, amount);
        if (_used == 0)
        {
            Volatile.Write(ref _used, 1);
        }
    }

    /// <summary>Back to zero (admin <c>/reset_counters</c>); stays "used".</summary>
    public void Reset() => Interlocked.Exchange(ref _value, 0);
}

/// <summary>An Envoy gauge: a value that goes up and down.</summary>
public sealed class Gauge
{
    private long _value;
    private int _used;

    internal Gauge(string name) => Name = name;

    /// <summary>The full Envoy name, e.g. <c>cluster.httpbin_service.upstream_rq_active</c>.</summary>
    public string Name { get; }

    /// <summary>The current value.</summary>
    public long Value => Volatile.Read(ref _value);

    /// <summary>True once the gauge has been set or changed.</summary>
    public bool Used => Volatile.Read(ref _used) != 0;

    /// <summary>Adds one.</summary>
    public void Increment() => Add(1);

    /// <summary>Subtracts one.</summary>
    public void Decrement() => Add(-1);

    /// <summary>Adds <paramref name="amount"/> (may be negative).</summary>
    public void Add(long amount)
    {
        Interlocked.Add(ref _value, amount);
        MarkUsed();
    }

    /// <summary>Sets the value.</summary>
    public void Set(long value)
    {
        Interlocked.Exchange(ref _value, value);
        MarkUsed();
    }

    private void MarkUsed()
    {
        if (_used == 0)
        {
            Volatile.Write(ref _used, 1);
        }
    }
}

/// <summary>An Envoy text readout: a string value (a subscription's <c>version_text</c>).</summary>
public sealed class TextReadout
{
    private string _value = string.Empty;
    private int _used;

    internal TextReadout(string name) => Name = name;

    /// <summary>The full Envoy name, e.g. <c>cluster_manager.cds.version_text</c>.</summary>
    public string Name { get; }

    /// <summary>The current value (empty until set).</summary>
    public string Value => Volatile.Read(ref _value);

    /// <summary>True once the value has been set.</summary>
    public bool Used => Volatile.Read(ref _used) != 0;

    /// <summary>Sets the value.</summary>
    public void Set(string value)
    {
        Volatile.Write(ref _value, value);
        Volatile.Write(ref _used, 1);
    }
}
