using System.Globalization;

namespace Gateway.Stats;

/// <summary>
/// An Envoy histogram (values in milliseconds). Like Envoy's (libcircllhist), values land in log-linear
/// bins of two significant digits, from which quantiles are interpolated; the Prometheus buckets are
/// counted exactly besides. Envoy reports two views: <em>cumulative</em> (since start) and
/// <em>interval</em> (the last completed flush interval); <see cref="Flush"/> closes an interval.
/// </summary>
public sealed class Histogram
{
    /// <summary>Envoy's quantiles, in percent, as <c>/stats</c> prints them.</summary>
    public static readonly double[] SupportedQuantiles = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

    /// <summary>Envoy's default Prometheus bucket bounds (ms).</summary>
    public static readonly double[] PrometheusBuckets = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

    private readonly Lock _flushLock = new();
    private LogLinearBins _cumulative = new();
    private LogLinearBins _interval = new();
    private LogLinearBins? _lastInterval;
    private readonly long[] _bucketCounts = new long[PrometheusBuckets.Length];
    private long[] _intervalBucketCounts = new long[PrometheusBuckets.Length];
    private long[] _lastIntervalBucketCounts = new long[PrometheusBuckets.Length];
    private long _count;
    private long _sumTimesThousand;
    private int _used;

    internal Histogram(string name) => Name = name;

    /// <summary>The full Envoy name, e.g. <c>cluster.httpbin_service.upstream_rq_time</c>.</summary>
    public string Name { get; }

    /// <summary>True once a value was recorded.</summary>
    public bool Used => Volatile.Read(ref _used) != 0;

    /// <summary>Values recorded since start.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Sum of the values recorded since start.</summary>
    public double Sum => Volatile.Read(ref _sumTimesThousand) / 1000.0;

    /// <summary>Receives every recorded value once set (the prometheus-net bridge mirrors histograms this way).</summary>
    internal Action<double>? Observer { get; set; }

    /// <summary>Records one value (milliseconds; negative values count as 0).</summary>
    public void Record(double value)
    {
        if (value < 0 || double.IsNaN(value))
        {
            value = 0;
        }
        Observer?.Invoke(value);
        // Only the open interval is written; the cumulative view adds it to the closed ones (fewer
        // interlocked writes on the request path).
        Volatile.Read(ref _interval).Add(value);
        for (var i = 0; i < PrometheusBuckets.Length; i++)
        {
            if (value <= PrometheusBuckets[i])
            {
                Interlocked.Increment(ref Volatile.Read(ref _intervalBucketCounts)[i]);
                break;
            }
        }
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumTimesThousand, (long)(value * 1000));
        if (_used == 0)
        {
            Volatile.Write(ref _used, 1);
        }
    }

    /// <summary>Closes the current interval (Envoy's stats flush); the interval view then shows it.</summary>
    public void Flush()
    {
        lock (_flushLock)
        {
            _lastInterval = Interlocked.Exchange(ref _interval, new LogLinearBins());
            _cumulative.AddAll(_lastInterval);
            _lastIntervalBucketCounts = Interlocked.Exchange(ref _intervalBucketCounts, new long[PrometheusBuckets.Length]);
            for (var i = 0; i < _bucketCounts.Length; i++)
            {
                Interlocked.Add(ref _bucketCounts[i], _lastIntervalBucketCounts[i]);
            }
        }
    }

    /// <summary>The cumulative quantiles (NaN when empty), in the order of <see cref="SupportedQuantiles"/>.</summary>
    public double[] CumulativeQuantiles()
    {
        lock (_flushLock)
        {
            var merged = new LogLinearBins();
            merged.AddAll(_cumulative);
            merged.AddAll(Volatile.Read(ref _interval));
            return merged.Quantiles(SupportedQuantiles);
        }
    }

    /// <summary>The last interval's quantiles (NaN when that interval had no values, or none has closed yet).</summary>
    public double[] IntervalQuantiles()
    {
        lock (_flushLock)
        {
            return _lastInterval is { } last ? last.Quantiles(SupportedQuantiles) : NaNs();
        }
    }

    /// <summary>Cumulative counts of values ≤ each of <see cref="PrometheusBuckets"/>.</summary>
    public long[] CumulativeBucketCounts()
    {
        var result = new long[PrometheusBuckets.Length];
        long running = 0;
        for (var i = 0; i < result.Length; i++)
        {
            running += Volatile.Read(ref _bucketCounts[i]) + Volatile.Read(ref Volatile.Read(ref _intervalBucketCounts)[i]);
            result[i] = running;
        }
        return result;
    }

    /// <summary>Counts of values in each bucket alone (Envoy's <c>histogram_buckets=disjoint</c>).</summary>
    public long[] DisjointBucketCounts()
    {
        var result = new long[PrometheusBuckets.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Volatile.Read(ref _bucketCounts[i]) + Volatile.Read(ref Volatile.Read(ref _intervalBucketCounts)[i]);
        }
        return result;
    }

    /// <summary>The last interval's cumulative bucket counts.</summary>
    public long[] IntervalCumulativeBucketCounts()
    {
        var disjoint = IntervalDisjointBucketCounts();
        for (var i = 1; i < disjoint.Length; i++)
        {
            disjoint[i] += disjoint[i - 1];
        }
        return disjoint;
    }

    /// <summary>The last interval's per-bucket counts.</summary>
    public long[] IntervalDisjointBucketCounts()
    {
        lock (_flushLock)
        {
            return (long[])_lastIntervalBucketCounts.Clone();
        }
    }

    private static double[] NaNs()
    {
        var result = new double[SupportedQuantiles.Length];
        Array.Fill(result, double.NaN);
        return result;
    }

    /// <summary>Formats a quantile value as Envoy does (shortest round trip; <c>nan</c>).</summary>
    public static string Format(double value) => double.IsNaN(value) ? "nan" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Bins of two significant digits: value m·10^e with m in [1.0, 9.9], each bin [m·10^e, (m+0.1)·10^e).
    /// Rows per decimal exponent are allocated on first use, so a histogram costs little until it is used widely.
    /// </summary>
    private sealed class LogLinearBins
    {
        private const int MinExponent = -3;
        private const int MaxExponent = 9;

        /// <summary>10^(MinExponent + i), one decade past MaxExponent.</summary>
        private static readonly double[] Powers = Enumerable.Range(MinExponent, MaxExponent - MinExponent + 2).Select(e => Math.Pow(10, e)).ToArray();
        private readonly long[]?[] _rows = new long[]?[MaxExponent - MinExponent + 1];
        private long _zero;

        public void Add(double value)
        {
            if (value < 1e-3)
            {
                Interlocked.Increment(ref _zero);
                return;
            }
            // The decade by comparison with precomputed powers of ten (Log10/Pow cost more on the request path).
            var exponent = MinExponent;
            while (exponent < MaxExponent && value >= Powers[exponent - MinExponent + 1])
            {
                exponent++;
            }
            var mantissa = Math.Clamp((int)((value / Powers[exponent - MinExponent] * 10) + 1e-9), 10, 99);
            var row = Volatile.Read(ref _rows[exponent - MinExponent]) ?? CreateRow(exponent - MinExponent);
            Interlocked.Increment(ref row[mantissa - 10]);
        }

        /// <summary>Adds every count of <paramref name="other"/> to these bins.</summary>
        public void AddAll(LogLinearBins other)
        {
            Interlocked.Add(ref _zero, Volatile.Read(ref other._zero));
            for (var r = 0; r < other._rows.Length; r++)
            {
                if (Volatile.Read(ref other._rows[r]) is not { } source)
                {
                    continue;
                }
                var row = Volatile.Read(ref _rows[r]) ?? CreateRow(r);
                for (var m = 0; m < source.Length; m++)
                {
                    var count = Volatile.Read(ref source[m]);
                    if (count != 0)
                    {
                        Interlocked.Add(ref row[m], count);
                    }
                }
            }
        }

        private long[] CreateRow(int index)
        {
            var row = new long[90];
            return Interlocked.CompareExchange(ref _rows[index], row, null) ?? row;
        }

        /// <summary>libcircllhist's approximate quantiles: linear interpolation inside the bin that holds the target rank.</summary>
        public double[] Quantiles(double[] percents)
        {
            var bins = new List<(double Left, double Width, long Count)>();
            var zero = Volatile.Read(ref _zero);
            if (zero > 0)
            {
                bins.Add((0, 0, zero));
            }
            for (var r = 0; r < _rows.Length; r++)
            {
                if (Volatile.Read(ref _rows[r]) is not { } row)
                {
                    continue;
                }
                var scale = Math.Pow(10, r + MinExponent - 1);
                for (var m = 0; m < row.Length; m++)
                {
                    var count = Volatile.Read(ref row[m]);
                    if (count > 0)
                    {
                        bins.Add(((m + 10) * scale, scale, count));
                    }
                }
            }
            var result = new double[percents.Length];
            long total = 0;
            foreach (var bin in bins)
            {
                total += bin.Count;
            }
            if (total == 0)
            {
                Array.Fill(result, double.NaN);
                return result;
            }
            for (var i = 0; i < percents.Length; i++)
            {
                var target = percents[i] / 100.0 * total;
                long lower = 0;
                result[i] = bins[^1].Left + bins[^1].Width;
                foreach (var (left, width, count) in bins)
                {
                    var upper = lower + count;
                    if (target <= upper)
                    {
                        result[i] = left + ((target - lower) / count * width);
                        break;
                    }
                    lower = upper;
                }
                result[i] = Math.Round(result[i], 6);
            }
            return result;
        }
    }
}
