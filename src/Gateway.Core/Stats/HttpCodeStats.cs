namespace Gateway.Stats;

/// <summary>
/// Envoy's dynamic response-code counters under one prefix: <c>&lt;prefix&gt;upstream_rq_completed</c>,
/// <c>upstream_rq_&lt;N&gt;xx</c> and <c>upstream_rq_&lt;code&gt;</c> (codes outside 100-599 count as
/// <c>upstream_rq_unknown</c>). Per-code counters are made on first use and then kept in an array.
/// </summary>
public sealed class HttpCodeStats
{
    private readonly StatsStore _store;
    private readonly string _prefix;
    private readonly Counter[] _classes;
    private readonly Counter?[] _codes = new Counter?[600];
    private Counter? _unknown;

    /// <summary>Creates the set; <paramref name="prefix"/> ends with a dot, e.g. <c>cluster.c.</c> or <c>cluster.c.retry.</c>.</summary>
    public HttpCodeStats(StatsStore store, string prefix)
    {
        _store = store;
        _prefix = prefix;
        Completed = store.Counter(prefix + "upstream_rq_completed");
        _classes = new Counter[6];
        for (var i = 1; i <= 5; i++)
        {
            _classes[i] = store.Counter($"{prefix}upstream_rq_{i}xx");
        }
    }

    /// <summary><c>upstream_rq_completed</c>.</summary>
    public Counter Completed { get; }

    /// <summary>Counts one response with this status code.</summary>
    public void Charge(int statusCode)
    {
        Completed.Increment();
        if (statusCode is >= 100 and < 600)
        {
            _classes[statusCode / 100].Increment();
            var counter = Volatile.Read(ref _codes[statusCode]) ?? Create(statusCode);
            counter.Increment();
        }
        else
        {
            (_unknown ??= _store.Counter(_prefix + "upstream_rq_unknown")).Increment();
        }
    }

    private Counter Create(int statusCode)
    {
        var counter = _store.Counter(_prefix + "upstream_rq_" + statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Volatile.Write(ref _codes[statusCode], counter);
        return counter;
    }
}
