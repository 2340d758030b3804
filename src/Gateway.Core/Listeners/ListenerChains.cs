using System.Net;
using Gateway.Clusters;
using Gateway.Listeners.Inspection;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Listeners;

/// <summary>
/// A listener as it runs: its filter chains (one <see cref="ListenerRuntime"/> each) and the compiled matches that choose
/// one per connection, the default chain, the TLS inspector, and what is the listener's own (stats, access logs).
/// Built whole when a configuration is applied and swapped in one step through the <see cref="ListenerSlot"/>.
/// </summary>
internal sealed class ListenerChains
{
    // Envoy's stand-in for an address that is not IP (FilterChain::fakeAddress): it only matches catch-all ranges.
    private static readonly IPEndPoint FakeEndPoint = new(IPAddress.Broadcast, 0);

    private readonly FilterChainMatchPlan[] _matches;

    private ListenerChains(ListenerPlan plan, ListenerRuntime[] chains, ListenerRuntime? fallback, ListenerStats stats)
    {
        Plan = plan;
        Chains = chains;
        Default = fallback;
        Stats = stats;
        _matches = new FilterChainMatchPlan[chains.Length];
        for (var i = 0; i < chains.Length; i++)
        {
            _matches[i] = chains[i].Chain.Match;
        }
        // One chain that takes every connection needs no facts about it (the common listener).
        Single = chains.Length == 1 && ReferenceEquals(_matches[0], FilterChainMatchPlan.Any) ? chains[0] : null;
    }

    public ListenerPlan Plan { get; }

    /// <summary>
    /// This listener's definition did not change and <paramref name="next"/> was built from it with new routes or
    /// clusters: each chain's connections move to the matching new chain (same definition, so same order).
    /// </summary>
    public void HandOver(ListenerChains next)
    {
        for (var i = 0; i < Chains.Count && i < next.Chains.Count; i++)
        {
            Chains[i].Successor = next.Chains[i];
        }
        if (Default is not null)
        {
            Default.Successor = next.Default;
        }
    }

    /// <summary>The chains in configuration order.</summary>
    public IReadOnlyList<ListenerRuntime> Chains { get; }

    /// <summary>The <c>default_filter_chain</c>, or null.</summary>
    public ListenerRuntime? Default { get; }

    /// <summary>The only chain when there is one without a match (then no facts are gathered); otherwise null.</summary>
    public ListenerRuntime? Single { get; }

    /// <summary>The listener's stats (<c>listener.&lt;address&gt;.*</c>).</summary>
    public ListenerStats Stats { get; }

    /// <summary>The TLS inspector, or null when the listener has none.</summary>
    public ClientHelloInspector? Inspector { get; private init; }

    /// <summary>The listener's access loggers (<c>Listener.access_log</c>), written when each connection closes (empty: nothing per connection).</summary>
    public AccessLog.AccessLogger[] ConnectionLogs { get; private init; } = [];

    /// <summary>True when a listener logger prints <c>%BYTES_RECEIVED%</c> / <c>%BYTES_SENT%</c>: the connection's bytes are counted.</summary>
    public bool ConnectionLogsNeedBytes { get; private init; }

    /// <summary>The clock of the connection log's start time and duration, and of <c>listener_filters_timeout</c>.</summary>
    public TimeProvider Time { get; private init; } = TimeProvider.System;

    private readonly CancellationTokenSource _drain = new();
    private readonly CancellationTokenSource _close = new();
    private ITimer? _drainTimer;
    private TimeSpan _drainTime;
    private bool _gradual;
    private Random _random = Random.Shared;

    /// <summary>A connection of this listener is to close (its drain token fired): now, or at its moment of a gradual drain.</summary>
    public void DrainConnection(Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeNotificationFeature? lifetime)
    {
        if (lifetime is null)
        {
            return;
        }
        if (!_gradual)
        {
            lifetime.RequestClose();
            return;
        }
        var delay = TimeSpan.FromTicks((long)(_drainTime.Ticks * _random.NextDouble()));
        ITimer? timer = null;
        timer = Time.CreateTimer(_ =>
        {
            lifetime.RequestClose();
            timer?.Dispose();
        }, null, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Fires when the listener was changed or removed: its connections are asked to close (Envoy's drain).</summary>
    public CancellationToken DrainToken => _drain.Token;

    /// <summary>Fires when the drain time is over: the connections still open are closed.</summary>
    public CancellationToken CloseToken => _close.Token;

    /// <summary>True once the listener drains.</summary>
    public bool Draining => _drain.IsCancellationRequested;

    /// <summary>
    /// The listener was replaced by a changed definition or removed (Envoy's drainListener): its connections are asked to
    /// close (over HTTP/1 after the request in flight, with <c>connection: close</c>, an idle one at once; over HTTP/2 with
    /// a GOAWAY, the streams in flight finishing), all now or, <paramref name="gradual"/>, each at a moment spread over
    /// <paramref name="drainTime"/>; those still open when it is over are closed. <paramref name="drained"/> runs then.
    /// </summary>
    public void BeginDrain(TimeSpan drainTime, bool gradual, Random random, Action drained)
    {
        if (_drain.IsCancellationRequested)
        {
            return;
        }
        _drainTime = drainTime;
        _gradual = gradual;
        _random = random;
        _drain.Cancel();
        _drainTimer = Time.CreateTimer(static state =>
        {
            var (chains, done) = ((ListenerChains, Action))state!;
            chains._close.Cancel();
            chains._drainTimer?.Dispose();
            done();
        }, (this, drained), drainTime, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Every chain, the default one last.</summary>
    public IEnumerable<ListenerRuntime> All()
    {
        foreach (var chain in Chains)
        {
            yield return chain;
        }
        if (Default is not null)
        {
            yield return Default;
        }
    }

    /// <summary>Envoy's FilterChainManagerImpl::findFilterChain: the matching chain, else the default one, else null (close).</summary>
    public ListenerRuntime? Select(IPEndPoint? local, IPEndPoint? remote, InspectedConnection? found)
    {
        var destination = local ?? FakeEndPoint;
        var source = remote ?? FakeEndPoint;
        var facts = new ConnectionFacts(destination, source, source,
            found?.Hello.ServerName ?? string.Empty,
            found?.TransportProtocol ?? InspectedConnection.RawBuffer,
            found?.Hello.ApplicationProtocols ?? (IReadOnlyList<string>)[]);
        var index = FilterChainSelector.Select(_matches, facts);
        return index >= 0 ? Chains[index] : Default;
    }

    /// <summary>Compiles a listener: each chain against the cluster registry and stats store.</summary>
    public static ListenerChains Build(ListenerPlan plan, ClusterRegistry clusters, StatsStore store, Filters.FilterServices? services = null, Tracing.TracerManager? tracers = null, Tracing.LocalNode? node = null, Tls.SdsSubscriptions? secrets = null)
    {
        var chains = new ListenerRuntime[plan.FilterChains.Count];
        for (var i = 0; i < chains.Length; i++)
        {
            chains[i] = ListenerRuntime.Build(plan, plan.FilterChains[i], clusters, store, services, tracers, node, secrets);
        }
        var fallback = plan.DefaultFilterChain is { } defaultChain ? ListenerRuntime.Build(plan, defaultChain, clusters, store, services, tracers, node, secrets) : null;
        return new ListenerChains(plan, chains, fallback, new ListenerStats(store, plan.StatScope))
        {
            Inspector = plan.TlsInspector ? new ClientHelloInspector(new TlsInspectorStats(store)) : null,
            ConnectionLogs = ListenerRuntime.BuildLogs(plan.AccessLogs, services),
            ConnectionLogsNeedBytes = AccessLog.AccessLogCompiler.NeedsBodyBytes(plan.AccessLogs),
            Time = services?.Time ?? TimeProvider.System,
        };
    }
}
