namespace Gateway.Stats;

/// <summary>
/// Envoy's dynamic response-code counters under one prefix: <c>&lt;prefix&gt;upstream_rq_completed</c>,
/// <c>upstream_rq_&lt;N&gt;xx</c>, <c>upstream_rq_&lt;code&gt;</c> and the <c>upstream_rq_time</c> histogram (codes outside 100-599 count as
/// <c>upstream_rq_unknown</c>). Like Envoy's, they exist only once charged: each is made on first use
/// and then kept in an array, so later requests only increment.
/// </summary>
public sealed class HttpCodeStats
{
    private readonly StatsStore _store;
    private readonly string _prefix;
    private readonly Counter?[] _classes = new Counter?[6];
    private readonly Counter?[] _codes = new Counter?[600];
    private Counter? _completed;
    private Counter? _unknown;
    private Histogram? _time;

    /// <summary>Creates the set; <paramref name="prefix"/> ends with a dot, e.g. <c>cluster.c.</c> or <c>cluster.c.retry.</c>.</summary>
    public HttpCodeStats(StatsStore store, string prefix)
    {
        _store = store;
        _prefix = prefix;
    }

    /// <summary>Counts one response with this status code.</summary>
    public void Charge(int statusCode)
    {
        (Volatile.Read(ref _completed) ?? Create(ref _completed, "upstream_rq_completed")).Increment();
        if (statusCode is >= 100 and < 600)
        {
            var codeClass = statusCode / 100;
            (Volatile.Read(ref _classes[codeClass]) ?? Create(ref _classes[codeClass], $"upstream_rq_{codeClass}xx")).Increment();
            (Volatile.Read(ref _codes[statusCode]) ?? Create(ref _codes[statusCode], "upstream_rq_" + statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))).Increment();
        }
        else
        {
            (Volatile.Read(ref _unknown) ?? Create(ref _unknown, "upstream_rq_unknown")).Increment();
        }
    }

    /// <summary>Records <c>upstream_rq_time</c> (ms), made on first use like the counters.</summary>
    public void RecordTime(double milliseconds)
    {
        var histogram = Volatile.Read(ref _time);
        if (histogram is null)
        {
            histogram = _store.Histogram(_prefix + "upstream_rq_time");
            Volatile.Write(ref _time, histogram);
        }
        histogram.Record(milliseconds);
    }

    private Counter Create(ref Counter? slot, string name)
    {
        // The store hands every caller the same counter for a name, so a race here is harmless.
        var counter = _store.Counter(_prefix + name);
        Volatile.Write(ref slot, counter);
        return counter;
    }
}
