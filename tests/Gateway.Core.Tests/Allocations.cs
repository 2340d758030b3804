namespace Gateway.Tests;

/// <summary>Measures what code allocates on the current thread, after a warm-up (JIT, pools, caches).</summary>
internal static class Allocations
{
    /// <summary>Bytes allocated by <paramref name="iterations"/> calls of <paramref name="run"/>, after 100 unmeasured calls.</summary>
    public static long Measure(Action run, int iterations = 1000)
    {
        for (var i = 0; i < 100; i++)
        {
            run();
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            run();
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
