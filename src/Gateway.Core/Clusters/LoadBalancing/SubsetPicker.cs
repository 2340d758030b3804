using System.Globalization;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Stats;
using Gateway.Translation;

namespace Gateway.Clusters.LoadBalancing;

/// <summary>
/// A picker that takes the request's subset criteria (Envoy's LoadBalancerContext::metadataMatchCriteria); the
/// router checks for it once per pick instead of every algorithm taking criteria it does not use.
/// </summary>
internal interface ISubsetPicker : IHostPicker
{
    /// <summary>Envoy's SubsetLoadBalancer::chooseHost for <paramref name="criteria"/> (null: the request has none).</summary>
    WeightedHost? Pick(SubsetCriteria? criteria, ulong? hash, int attempt);

    /// <summary>The subsets' algorithm is a hash-based one: the caller passes the request's hash (or <see cref="RandomHash"/>) to every re-pick.</summary>
    bool UsesHash { get; }

    /// <summary>A random hash for a request without a hash key (hash-based subsets).</summary>
    ulong RandomHash();
}

/// <summary>
/// Envoy's subset load balancer (source/extensions/load_balancing_policies/subset/subset_lb.cc) as a wrapper around the
/// cluster's policy factory: at every host list change it groups the hosts into subsets by their <c>envoy.lb</c>
/// metadata (one per selector and combination of values) and builds one inner picker per subset with the inner
/// factory, plus the ANY_ENDPOINT and DEFAULT_SUBSET fallback pickers when the config uses them. It keeps the
/// <c>lb_subsets_*</c> stats across rebuilds (created, removed, active). Create calls are serialized by the cluster.
/// </summary>
internal sealed class SubsetPickerFactory : IHostPickerFactory
{
    private readonly SubsetLbPlan _plan;
    private readonly IHostPickerFactory _inner;
    private readonly ClusterStats _stats;
    private readonly Gauge _singleHostDuplicates;
    private readonly Random _random;
    private HashSet<SubsetKey> _active = [];

    public SubsetPickerFactory(SubsetLbPlan plan, IHostPickerFactory inner, ClusterStats stats, Random random)
    {
        _plan = plan;
        _inner = inner;
        _stats = stats;
        _random = random;
        // Envoy makes this gauge when the subset load balancer first sorts hosts, not for every cluster.
        _singleHostDuplicates = stats.Store.Gauge(stats.Prefix + "lb_subsets_single_host_per_subset_duplicate");
        SelectorFallbacks = BuildSelectorFallbacks(plan.Selectors);
        var selectorAny = false;
        var selectorDefault = false;
        foreach (var selector in SelectorFallbacks.Values)
        {
            selectorAny |= selector.FallbackPolicy == LbSubsetSelectorFallbackPolicy.ANY_ENDPOINT;
            selectorDefault |= selector.FallbackPolicy == LbSubsetSelectorFallbackPolicy.DEFAULT_SUBSET;
        }
        NeedsAny = plan.FallbackPolicy == LbSubsetFallbackPolicy.ANY_ENDPOINT || plan.PanicModeAny || selectorAny;
        NeedsDefault = plan.FallbackPolicy == LbSubsetFallbackPolicy.DEFAULT_SUBSET || selectorDefault;
    }

    public SubsetLbPlan Plan => _plan;

    /// <summary>The selectors' own fallbacks by their key set (NOT_DEFINED ones left out).</summary>
    internal Dictionary<SubsetKey, SubsetSelectorPlan> SelectorFallbacks { get; }

    internal bool NeedsAny { get; }

    internal bool NeedsDefault { get; }

    internal ClusterStats Stats => _stats;

    internal bool UsesHash => _inner is HashPickerFactory or PrioritySetPickerFactory { Inner: HashPickerFactory };

    internal ulong RandomHash() => (ulong)_random.NextInt64(long.MinValue, long.MaxValue);

    public IHostPicker Create(IReadOnlyList<WeightedHost> hosts)
    {
        var ordered = InConfigOrder(hosts);
        var totals = _plan is { LocalityWeightAware: true, ScaleLocalityWeight: true } ? LocalityCounts(ordered) : null;
        var any = NeedsAny ? _inner.Create(Scaled(ordered, totals)) : null;
        IHostPicker? defaultSubset = null;
        if (NeedsDefault)
        {
            var matching = new List<WeightedHost>();
            foreach (var host in ordered)
            {
                if (MatchesDefault(host))
                {
                    matching.Add(host);
                }
            }
            defaultSubset = _inner.Create(Scaled(matching, totals));
        }

        // Envoy's processSubsets: for each host, for each selector, each combination of the host's values for the
        // selector's keys is the subset the host joins; a single-host subset keeps its first host, counting the others.
        var entries = new Dictionary<SubsetKey, (List<WeightedHost> Hosts, bool Single)>();
        long duplicates = 0;
        foreach (var host in ordered)
        {
            if (!host.Host.Metadata.TryGetNamespace(SubsetCriteria.EnvoyLbNamespace, out var fields) || fields.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            foreach (var selector in _plan.Selectors)
            {
                foreach (var kvs in ExtractSubsetMetadata(selector.Keys, fields, _plan.ListAsAny))
                {
                    var key = SubsetKey.ForValues(kvs);
                    if (!entries.TryGetValue(key, out var entry))
                    {
                        entry = ([], selector.SingleHostPerSubset);
                        entries[key] = entry;
                    }
                    if (entry.Single)
                    {
                        if (entry.Hosts.Count > 0)
                        {
                            duplicates++;
                            continue;
                        }
                    }
                    else if (Contains(entry.Hosts, host))
                    {
                        continue;
                    }
                    entry.Hosts.Add(host);
                }
            }
        }
        _singleHostDuplicates.Set(duplicates);

        var subsets = new Dictionary<SubsetKey, IHostPicker>(entries.Count);
        foreach (var (key, entry) in entries)
        {
            subsets[key] = entry.Single ? new SingleHostPicker(entry.Hosts[0]) : _inner.Create(Scaled(entry.Hosts, totals));
        }
        UpdateStats(subsets.Keys);

        var fallback = _plan.FallbackPolicy switch
        {
            LbSubsetFallbackPolicy.ANY_ENDPOINT => any,
            LbSubsetFallbackPolicy.DEFAULT_SUBSET => defaultSubset,
            _ => null,
        };
        return new SubsetPicker(this, subsets, any, defaultSubset, fallback, _plan.PanicModeAny ? any : null);
    }

    /// <summary>The number of hosts of each priority level and locality (scale_locality_weight compares a subset's with them).</summary>
    private static Dictionary<(int Priority, LocalityPlan Locality), int> LocalityCounts(IReadOnlyList<WeightedHost> hosts)
    {
        var counts = new Dictionary<(int, LocalityPlan), int>();
        foreach (var host in hosts)
        {
            var key = (host.Priority, host.Locality ?? LocalityPlan.None);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }

    /// <summary>
    /// <c>scale_locality_weight</c> (Envoy's HostSubsetImpl::determineLocalityWeights): in a subset, a locality's weight
    /// is <c>round(weight × subset hosts / all hosts)</c> of that locality at that priority (in single precision, as
    /// Envoy); unchanged hosts when not scaling (<paramref name="totals"/> null).
    /// </summary>
    internal static IReadOnlyList<WeightedHost> Scaled(IReadOnlyList<WeightedHost> subset, Dictionary<(int Priority, LocalityPlan Locality), int>? totals)
    {
        if (totals is null)
        {
            return subset;
        }
        var members = LocalityCounts(subset);
        var scaled = new WeightedHost[subset.Count];
        for (var i = 0; i < scaled.Length; i++)
        {
            var host = subset[i];
            var key = (host.Priority, host.Locality ?? LocalityPlan.None);
            var weight = MathF.Round((float)((ulong)host.LocalityWeight * (ulong)members[key]) / totals[key], MidpointRounding.AwayFromZero);
            scaled[i] = host with { LocalityWeight = (uint)weight };
        }
        return scaled;
    }

    /// <summary>This factory is replaced (the cluster's settings changed): its subsets count as removed, as when Envoy destroys the load balancer.</summary>
    public void Retire()
    {
        if (_active.Count > 0)
        {
            _stats.LbSubsetsRemoved.Add(_active.Count);
            _stats.LbSubsetsActive.Add(-_active.Count);
            _active = [];
        }
    }

    private void UpdateStats(IEnumerable<SubsetKey> keys)
    {
        var now = new HashSet<SubsetKey>(keys);
        var created = 0;
        foreach (var key in now)
        {
            if (!_active.Contains(key))
            {
                created++;
            }
        }
        var removed = 0;
        foreach (var key in _active)
        {
            if (!now.Contains(key))
            {
                removed++;
            }
        }
        if (created > 0)
        {
            _stats.LbSubsetsCreated.Add(created);
        }
        if (removed > 0)
        {
            _stats.LbSubsetsRemoved.Add(removed);
        }
        if (created != removed)
        {
            _stats.LbSubsetsActive.Add(created - removed);
        }
        _active = now;
    }

    /// <summary>Envoy's hostMatches (Config::Metadata::metadataLabelMatch) against <c>default_subset</c>: every field present and equal.</summary>
    private bool MatchesDefault(in WeightedHost host)
    {
        if (_plan.DefaultSubset is not { } wanted)
        {
            return true;
        }
        if (!host.Host.Metadata.TryGetNamespace(SubsetCriteria.EnvoyLbNamespace, out var fields) || fields.ValueKind != JsonValueKind.Object)
        {
            return false;
        }
        foreach (var criterion in wanted.Criteria)
        {
            if (!fields.TryGetProperty(criterion.Name, out var value) || !SubsetValue.Matches(value, criterion.Value, _plan.ListAsAny))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Envoy's extractSubsetMetadata: the host's value for each key in turn; a missing key gives nothing; with
    /// <c>list_as_any</c> a list value branches into one combination per element. Follows Envoy literally, including
    /// that an empty list leaves no combination and the next key starts afresh.
    /// </summary>
    internal static List<SubsetCriterion[]> ExtractSubsetMetadata(IReadOnlyList<string> keys, JsonElement fields, bool listAsAny)
    {
        var all = new List<List<SubsetCriterion>>();
        foreach (var key in keys)
        {
            if (!fields.TryGetProperty(key, out var value))
            {
                all.Clear();
                break;
            }
            if (listAsAny && value.ValueKind == JsonValueKind.Array)
            {
                if (all.Count == 0)
                {
                    foreach (var item in value.EnumerateArray())
                    {
                        all.Add([Criterion(key, item)]);
                    }
                }
                else
                {
                    var branched = new List<List<SubsetCriterion>>();
                    foreach (var kvs in all)
                    {
                        foreach (var item in value.EnumerateArray())
                        {
                            branched.Add([.. kvs, Criterion(key, item)]);
                        }
                    }
                    all = branched;
                }
            }
            else if (all.Count == 0)
            {
                all.Add([Criterion(key, value)]);
            }
            else
            {
                foreach (var kvs in all)
                {
                    kvs.Add(Criterion(key, value));
                }
            }
        }
        var result = new List<SubsetCriterion[]>(all.Count);
        foreach (var kvs in all)
        {
            result.Add([.. kvs]);
        }
        return result;
    }

    private static SubsetCriterion Criterion(string key, JsonElement value) => new(key, SubsetValue.Canonical(value), value);

    /// <summary>
    /// Envoy's SubsetSelectorMap (initSubsetSelectorMap): a trie of the selectors' sorted keys whose node for a selector's
    /// last key takes that selector's fallback only when the node is new, so of two selectors with the same keys, or a
    /// selector whose keys start a longer one listed before it, the first decides.
    /// </summary>
    private static Dictionary<SubsetKey, SubsetSelectorPlan> BuildSelectorFallbacks(IReadOnlyList<SubsetSelectorPlan> selectors)
    {
        var nodes = new HashSet<SubsetKey>();
        var fallbacks = new Dictionary<SubsetKey, SubsetSelectorPlan>();
        foreach (var selector in selectors)
        {
            for (var length = 1; length <= selector.Keys.Count; length++)
            {
                var path = SubsetKey.ForNames(selector.Keys.Take(length));
                if (nodes.Add(path) && length == selector.Keys.Count && selector.FallbackPolicy != LbSubsetSelectorFallbackPolicy.NOT_DEFINED)
                {
                    fallbacks[path] = selector;
                }
            }
        }
        return fallbacks;
    }

    private static bool Contains(List<WeightedHost> hosts, in WeightedHost host)
    {
        foreach (var existing in hosts)
        {
            if (ReferenceEquals(existing.Destination, host.Destination))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The hosts in the order of their endpoints in the configuration (Envoy's host set order, which decides a
    /// single-host subset's host); hosts without a recorded endpoint index keep their order, after the others.
    /// </summary>
    private static WeightedHost[] InConfigOrder(IReadOnlyList<WeightedHost> hosts)
    {
        var ordered = new (int Index, int Position, WeightedHost Host)[hosts.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var index = int.MaxValue;
            if (hosts[i].Destination.Model?.Config.Metadata is { } metadata
                && metadata.TryGetValue(EnvoyTranslator.EndpointIndexMetadata, out var text)
                && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                index = parsed;
            }
            ordered[i] = (index, i, hosts[i]);
        }
        Array.Sort(ordered, static (a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Position.CompareTo(b.Position));
        var result = new WeightedHost[ordered.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ordered[i].Host;
        }
        return result;
    }
}

/// <summary>
/// The subset load balancer over one host list: the subsets by key, and the fallback pickers. <see cref="Pick(SubsetCriteria?, ulong?, int)"/>
/// is Envoy's chooseHost / chooseHostIteration: the criteria's subset, else the selector's fallback, else the cluster's
/// fallback, then <c>panic_mode_any</c>. One dictionary lookup by a precomputed key per pick; nothing allocated.
/// </summary>
internal sealed class SubsetPicker : ISubsetPicker
{
    private readonly SubsetPickerFactory _factory;
    private readonly Dictionary<SubsetKey, IHostPicker> _subsets;
    private readonly IHostPicker? _any;
    private readonly IHostPicker? _default;
    private readonly IHostPicker? _fallback;
    private readonly IHostPicker? _panic;
    private readonly bool _fallbackList;

    internal SubsetPicker(SubsetPickerFactory factory, Dictionary<SubsetKey, IHostPicker> subsets, IHostPicker? any, IHostPicker? defaultSubset, IHostPicker? fallback, IHostPicker? panic)
    {
        _factory = factory;
        _subsets = subsets;
        _any = any;
        _default = defaultSubset;
        _fallback = fallback;
        _panic = panic;
        _fallbackList = factory.Plan.MetadataFallbackPolicy == LbSubsetMetadataFallbackPolicy.FALLBACK_LIST;
    }

    /// <summary>The subsets' keys (tests and diagnostics).</summary>
    internal IReadOnlyCollection<SubsetKey> SubsetKeys => _subsets.Keys;

    public bool UsesHash => _factory.UsesHash;

    public ulong RandomHash() => _factory.RandomHash();

    /// <summary>A pick without criteria (the gateway's own requests): the fallback policy.</summary>
    public WeightedHost? Pick(ulong? hash, int attempt) => Pick(null, hash, attempt);

    public WeightedHost? Pick(SubsetCriteria? criteria, ulong? hash, int attempt)
    {
        if (_fallbackList && criteria?.Fallbacks is { } fallbacks)
        {
            // Envoy's chooseHostWithMetadataFallbacks: each variant in turn until one yields a host.
            if (fallbacks.Variants.Length == 0)
            {
                return Iterate(fallbacks.Rest, hash, attempt);
            }
            foreach (var variant in fallbacks.Variants)
            {
                if (Iterate(variant, hash, attempt) is { } host)
                {
                    return host;
                }
            }
            return null;
        }
        return Iterate(criteria, hash, attempt);
    }

    private WeightedHost? Iterate(SubsetCriteria? criteria, ulong? hash, int attempt)
    {
        if (criteria is not null)
        {
            if (_subsets.TryGetValue(criteria.Key, out var subset))
            {
                // A subset exists (it has hosts): its answer stands, even no host.
                _factory.Stats.LbSubsetsSelected.Increment();
                return subset.Pick(hash, attempt);
            }
            if (_factory.SelectorFallbacks.TryGetValue(criteria.Names, out var selector))
            {
                return selector.FallbackPolicy switch
                {
                    LbSubsetSelectorFallbackPolicy.ANY_ENDPOINT => _any!.Pick(hash, attempt),
                    LbSubsetSelectorFallbackPolicy.DEFAULT_SUBSET => _default!.Pick(hash, attempt),
                    // The keys are a proper subset of the selector's, so this ends.
                    LbSubsetSelectorFallbackPolicy.KEYS_SUBSET => Iterate(criteria.Filter(selector.FallbackKeysSubset), hash, attempt),
                    _ => null,
                };
            }
        }
        if (_fallback is null)
        {
            return null;
        }
        if (_fallback.Pick(hash, attempt) is { } fallbackHost)
        {
            _factory.Stats.LbSubsetsFallback.Increment();
            return fallbackHost;
        }
        if (_panic?.Pick(hash, attempt) is { } panicHost)
        {
            _factory.Stats.LbSubsetsFallbackPanic.Increment();
            return panicHost;
        }
        return null;
    }
}

/// <summary>Envoy's SingleHostLbSubset: the subset's one host, whatever the policy.</summary>
internal sealed class SingleHostPicker(WeightedHost host) : IHostPicker
{
    public WeightedHost? Pick(ulong? hash, int attempt) => host;
}
