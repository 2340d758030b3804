namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// Envoy's earliest-deadline-first scheduler (source/common/upstream/edf_scheduler.h): each entry's deadline is
/// the scheduler's current time + 1 / weight; a pick takes the earliest deadline (ties in insertion order, FIFO)
/// and re-adds the entry with its weight at that moment. Not thread-safe: callers lock.
/// </summary>
internal sealed class EdfScheduler
{
    private readonly PriorityQueue<int, (double Deadline, ulong Order)> _queue;
    private double _currentTime;
    private ulong _order;

    public EdfScheduler(int capacity) => _queue = new PriorityQueue<int, (double, ulong)>(capacity, DeadlineComparer.Instance);

    public int Count => _queue.Count;

    /// <summary>Adds entry <paramref name="index"/> with <paramref name="weight"/> (&gt; 0).</summary>
    public void Add(int index, double weight) => _queue.Enqueue(index, (_currentTime + 1.0 / weight, _order++));

    /// <summary>Picks the entry with the earliest deadline and re-adds it with the weight <paramref name="weight"/> gives it now; -1 when empty.</summary>
    public int PickAndAdd(Func<int, double> weight)
    {
        if (!_queue.TryDequeue(out var index, out var priority))
        {
            return -1;
        }
        _currentTime = priority.Deadline;
        Add(index, weight(index));
        return index;
    }

    private sealed class DeadlineComparer : IComparer<(double Deadline, ulong Order)>
    {
        public static readonly DeadlineComparer Instance = new();

        public int Compare((double Deadline, ulong Order) x, (double Deadline, ulong Order) y)
        {
            var byDeadline = x.Deadline.CompareTo(y.Deadline);
            return byDeadline != 0 ? byDeadline : x.Order.CompareTo(y.Order);
        }
    }
}

/// <summary>
/// The load balancer's random source (Envoy's <c>Random::RandomGenerator::random()</c>): an injected
/// <see cref="Random"/> is not thread-safe, so it is locked; <see cref="Random.Shared"/> is used as is.
/// </summary>
internal sealed class LbRandom(Random random)
{
    private readonly bool _shared = ReferenceEquals(random, Random.Shared);

    /// <summary>A non-negative 64-bit random number.</summary>
    public ulong Next()
    {
        if (_shared)
        {
            return (ulong)random.NextInt64(long.MaxValue);
        }
        lock (random)
        {
            return (ulong)random.NextInt64(long.MaxValue);
        }
    }
}
