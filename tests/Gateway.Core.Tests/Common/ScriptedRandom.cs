namespace Gateway.Tests.Common;

/// <summary>A <see cref="Random"/> whose draws are scripted: each <c>NextInt64(max)</c> returns the next value (modulo max).</summary>
internal sealed class ScriptedRandom(params long[] values) : Random
{
    private int _next;

    public override long NextInt64(long maxValue) => values[Interlocked.Increment(ref _next) - 1] % maxValue;
}
