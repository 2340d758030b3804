namespace Gateway.Hosting;

/// <summary>
/// How listeners drain (Envoy's <c>--drain-time-s</c> and <c>--drain-strategy</c>): a listener LDS changes or removes,
/// and the admin's graceful <c>/drain_listeners</c>. Register one in the services to change them; the <c>gateway</c>
/// host sets it from its command line.
/// </summary>
public sealed class DrainOptions
{
    /// <summary>Envoy's default drain time, 600 s.</summary>
    public static readonly TimeSpan DefaultDrainTime = TimeSpan.FromSeconds(600);

    /// <summary>How long draining connections may stay open (<c>--drain-time-s</c>).</summary>
    public TimeSpan DrainTime { get; set; } = DefaultDrainTime;

    /// <summary>Whether connections are asked to close spread over the drain time or all at once (<c>--drain-strategy</c>).</summary>
    public DrainStrategy Strategy { get; set; } = DrainStrategy.Gradual;
}

/// <summary>Envoy's drain strategies.</summary>
public enum DrainStrategy
{
    /// <summary>Connections are asked to close at moments spread over the drain time (Envoy's default).</summary>
    Gradual,

    /// <summary>Every connection is asked to close when the drain starts.</summary>
    Immediate,
}
