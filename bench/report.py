#!/usr/bin/env python3
"""Helpers for bench/run.sh.

  report.py parse-wrk FILE
      prints one line: "<rps> <p50_ms> <p99_ms> <non2xx> <socket_errors> <requests> <mean_ms>"
      from `wrk --latency` output (exit 1 if the output has no Requests/sec line).

  report.py parse-h2load FILE
      the same line from `h2load` output (timing-based run, -D): p50 and p99 are "-" (h2load prints
      min/max/mean/sd of the request time, no percentiles); non2xx = h2load's "failed" minus its
      "errored" (responses that were not 2xx/3xx), socket_errors = "errored" (streams or connections
      that ended without a response, timeouts included), so their sum is h2load's "failed"; requests
      = "done" (exit 1 if the output has no "finished in" line).

  report.py alloc-csv FILE REQUESTS [--counter NAME]
      prints the bytes allocated per request (an integer) from a `dotnet-counters collect --format csv
      --refresh-interval 1` file of the runtime's dotnet.gc.heap.total_allocated counter, sampled
      around a wrk run that completed REQUESTS requests (exit 1 with the reason on stderr if the file
      does not show the whole run; see alloc_csv).

  report.py counter-sum FILE --counter NAME [--scale X]
      prints the sum of one rate counter's rows in such a file, times X (the JIT time in ms:
      --counter dotnet.jit.compilation.time --scale 1000).

  report.py parse-s-client TARGET FIRST.txt SECOND.txt
      prints one TLS.tsv row from two `openssl s_client` outputs against TARGET: the first connection's
      protocol, cipher, key exchange, signature and ALPN, and whether the second one (offering the first
      one's session) was resumed (exit 1 if FIRST.txt shows no handshake).

  report.py table --raw RAW.tsv --machine MACHINE.md --skipped SKIPPED.tsv --startup STARTUP.tsv
                  --params "..." --out OUT.md [--alloc-note "..."] [--tls TLS.tsv]
      writes the markdown report (medians over rounds) to OUT.md and prints it.

RAW.tsv columns: round target status rps p50_ms p99_ms non2xx sockerr rss_kb startup_ms bg_cpu_pct
  alloc_bytes_per_request mean_ms jit_ms cpu_us_per_request (status is "ok" or "fail:<reason>"; numbers are "-" when unknown).
STARTUP.tsv columns: name round startup_ms status
SKIPPED.tsv columns: target reason
TLS.tsv columns: target protocol cipher key_exchange signature alpn resumes
"""
import argparse
import re
import statistics
import sys

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"unrecognised latency '{text}'")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_wrk(path: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    rps = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    if not rps:
        print(f"report.py: no 'Requests/sec' in {path}", file=sys.stderr)
        return 1
    p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    reqs = re.search(r"^\s*(\d+) requests in", text, re.M)
    # "    Latency     2.94ms    1.23ms  40.00ms   90.00%" (Avg, Stdev, Max, +/- Stdev)
    mean = re.search(r"^\s*Latency\s+(\S+)", text, re.M)
    sockerr = sum(int(x) for x in sock.groups()) if sock else 0
    print(
        f"{float(rps.group(1)):.2f} "
        f"{to_ms(p50.group(1)) if p50 else float('nan'):.3f} "
        f"{to_ms(p99.group(1)) if p99 else float('nan'):.3f} "
        f"{int(non2xx.group(1)) if non2xx else 0} "
        f"{sockerr} "
        f"{int(reqs.group(1)) if reqs else 0} "
        f"{to_ms(mean.group(1)) if mean else float('nan'):.3f}"
    )
    return 0


def parse_h2load(path: str) -> int:
    """h2load's summary: "finished in 5.00s, 12345.67 req/s, 1.2MB/s", "requests: N total, N started,
    N done, N succeeded, N failed, N errored, N timeout", "time for request: min max mean sd +/-sd"."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    rps = re.search(r"^finished in [0-9.]+\w*, ([0-9.]+) req/s", text, re.M)
    if not rps:
        print(f"report.py: no 'finished in ... req/s' in {path}", file=sys.stderr)
        return 1
    req = re.search(
        r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
        text, re.M)
    if not req:
        print(f"report.py: no 'requests: ...' line in {path}", file=sys.stderr)
        return 1
    done, failed, errored = int(req.group(3)), int(req.group(5)), int(req.group(6))
    mean = re.search(r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    print(
        f"{float(rps.group(1)):.2f} - - {max(failed - errored, 0)} {errored} {done} "
        f"{to_ms(mean.group(3)) if mean else float('nan'):.3f}"
    )
    return 0


# A row is "idle" when it is below this share of the busiest row: the proxy without load allocates
# tens of kB/s (mostly for the counter session itself), under load tens of MB/s.
IDLE_SHARE = 0.05


def counter_rows(path: str, counter: str) -> tuple[list[float], set[str]] | None:
    """The rows of one counter in a `dotnet-counters collect --format csv` file, and every counter name seen."""
    rows: list[float] = []
    names: set[str] = set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if not line or line.startswith("Timestamp,"):
                    continue
                # Timestamp,Provider,Counter Name,Counter Type,Mean/Increment (the name has no comma
                # unless it carries several tags, so split the known columns off both ends)
                head = line.split(",", 2)
                if len(head) < 3:
                    continue
                parts = head[2].rsplit(",", 2)
                if len(parts) < 3:
                    continue
                name, _kind, value = parts
                names.add(name)
                if name.split(" ")[0] == counter:
                    rows.append(float(value))
    except FileNotFoundError:
        print(f"no {path} (dotnet-counters wrote no file)", file=sys.stderr)
        return None
    return rows, names


def alloc_csv(path: str, requests: int, counter: str) -> int:
    """Bytes allocated per request over a wrk run, from dotnet-counters' CSV.

    dotnet-counters reports the ObservableCounter dotnet.gc.heap.total_allocated (bytes allocated
    since the process started) as a rate: each row holds the bytes allocated since the previous row.
    The session was started with the proxy idle before the run and ends after it, so: the first and
    the last row must be idle (otherwise the run was not entirely inside the session and the number
    would be too low), and the rows in between add up to the cumulative value at the end of the
    window minus the cumulative value at its start.
    """
    read = counter_rows(path, counter)
    if read is None:
        return 1
    rows, names = read
    if not rows:
        seen = ", ".join(sorted(names)) or "none"
        print(f"no '{counter}' rows in {path} (counters seen: {seen})", file=sys.stderr)
        return 1
    if requests <= 0:
        print("wrk completed no requests", file=sys.stderr)
        return 1
    peak = max(rows)
    if len(rows) < 3 or peak <= 0:
        print(f"only {len(rows)} '{counter}' rows in {path}: the session did not cover the run", file=sys.stderr)
        return 1
    if rows[0] > IDLE_SHARE * peak or rows[-1] > IDLE_SHARE * peak:
        print(
            f"the wrk run is not inside the dotnet-counters session (first row {rows[0]:.0f} B, "
            f"last row {rows[-1]:.0f} B, busiest {peak:.0f} B)",
            file=sys.stderr,
        )
        return 1
    print(f"{sum(rows[1:-1]) / requests:.0f}")
    return 0


def counter_sum(path: str, counter: str, scale: float) -> int:
    """The sum of a rate counter's rows times scale (dotnet.jit.compilation.time: seconds per row -> ms)."""
    read = counter_rows(path, counter)
    if read is None:
        return 1
    rows, names = read
    if not rows:
        print(f"no '{counter}' rows in {path} (counters seen: {', '.join(sorted(names)) or 'none'})", file=sys.stderr)
        return 1
    print(f"{sum(rows) * scale:.0f}")
    return 0


def parse_s_client(target: str, first: str, second: str) -> int:
    """What a TLS target negotiated, from `openssl s_client` (OpenSSL 3 wording)."""
    def read(path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    one, two = read(first), read(second)
    hs = re.search(r"^(New|Reused), (\S+), Cipher is (\S+)", one, re.M)
    if not hs:
        print(f"report.py: no handshake in {first}", file=sys.stderr)
        return 1
    kx = re.search(r"^(?:Server|Peer) Temp Key: ([^,\n]+)", one, re.M)
    sig = re.search(r"^Peer signature type: (\S+)", one, re.M)
    digest = re.search(r"^Peer signing digest: (\S+)", one, re.M)
    alpn = re.search(r"^ALPN protocol: (\S+)", one, re.M)
    again = re.search(r"^(New|Reused), ", two, re.M)
    resumes = "-" if not again else ("yes" if again.group(1) == "Reused" else "no")
    signature = (sig.group(1) if sig else "-") + ("+" + digest.group(1) if digest else "")
    print("\t".join([target, hs.group(2), hs.group(3), kx.group(1).strip() if kx else "-", signature,
                     alpn.group(1) if alpn else "none", resumes]))
    return 0


# TLS targets: the plaintext target each keep-alive one is compared with (the cost of TLS on that proxy).
TLS_PLAIN = {"gateway-tls": "gateway-simple", "nginx-tls": "nginx", "haproxy-tls": "haproxy"}
TLS_TARGET_RATIO = 0.90   # issue 13: TLS keep-alive throughput within 10 % of plaintext gateway-simple


def is_tls(target: str) -> bool:
    return target.endswith(("-tls", "-tls-handshake"))


def read_tsv(path: str) -> list[list[str]]:
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    rows.append(line.split("\t"))
    except FileNotFoundError:
        pass
    return rows


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fnum(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def diff(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    return f"{a - b:+.0f}"


def table(args: argparse.Namespace) -> int:
    raw = read_tsv(args.raw)
    order: list[str] = []
    per: dict[str, dict[str, list]] = {}
    for r in raw:
        r = r + ["-"] * (15 - len(r))
        _round, target, status, rps, p50, p99, non2xx, sockerr, rss, startup, bg, alloc, mean, jit, cpu = r[:15]
        if target not in per:
            order.append(target)
            per[target] = {
                "rps": [], "mean": [], "p50": [], "p99": [], "err": [], "rss": [], "startup": [], "bg": [], "alloc": [],
                "jit": [], "cpu": [], "fail": []
            }
        d = per[target]
        if status != "ok":
            d["fail"].append(status)
            continue
        d["rps"].append(float(rps))
        for key, v in (("mean", mean), ("p50", p50), ("p99", p99)):   # "-": h2load has no percentiles
            if v not in ("-", "nan"):
                d[key].append(float(v))
        d["err"].append(int(non2xx) + int(sockerr))
        if rss != "-":
            d["rss"].append(int(rss) / 1024.0)
        if startup != "-":
            d["startup"].append(float(startup))
        if bg != "-":
            d["bg"].append(float(bg))
        if alloc != "-":
            d["alloc"].append(float(alloc))
        if jit != "-":
            d["jit"].append(float(jit))
        if cpu != "-":
            d["cpu"].append(float(cpu))

    summary = {}
    for t in order:
        d = per[t]
        summary[t] = {
            "rps": med(d["rps"]),
            "mean": med(d["mean"]),
            "p50": med(d["p50"]),
            "p99": med(d["p99"]),
            "err": med(d["err"]),
            "rss": med(d["rss"]),
            "startup": med(d["startup"]),
            "bg": max(d["bg"]) if d["bg"] else None,
            "alloc": med(d["alloc"]),
            "jit": max(d["jit"]) if d["jit"] else None,
            "cpu": med(d["cpu"]),
            "ok": len(d["rps"]),
            "fail": d["fail"],
        }

    # References for the ratios: the same protocol's bare-yarp and nginx (h2-* rows: h2-bare-yarp, h2-nginx).
    # TLS rows: the same kind of TLS run of that reference (nginx-tls, nginx-tls-handshake; there is no bare-yarp-tls).
    def ref_name(target: str, ref: str) -> str:
        if target.endswith("-tls-handshake"):
            return f"{ref}-tls-handshake"
        if target.endswith("-tls"):
            return f"{ref}-tls"
        return f"h2-{ref}" if target.startswith("h2-") else ref

    def ref_rps(target: str, ref: str) -> float | None:
        return summary.get(ref_name(target, ref), {}).get("rps")

    has_h2 = any(t.startswith("h2-") for t in order)

    lines = []
    lines.append(f"# Gateway load comparison ({args.stamp})\n")
    lines.append(f"{args.params}\n")
    lines.append("Medians over rounds. Latency in ms (wrk `--latency`: wrk's mean and its own percentiles).")
    lines.append("errors = non-2xx/3xx responses + socket errors (connect/read/write/timeout), per run.")
    lines.append("peak RSS = VmHWM of the proxy process(es) at the end of the round (nginx: master + workers summed).")
    lines.append("start-up = launch to first 200 through the proxy (curl polled every 10 ms).")
    lines.append("other CPU % = share of all CPU time used during the measured run by processes other than the upstream,")
    lines.append("the proxy and wrk or h2load (highest over rounds); above a few % the machine was shared and the row is noisy.")
    lines.append("alloc B/req = bytes the .NET process allocated during the measured run (runtime counter")
    lines.append("dotnet.gc.heap.total_allocated, via dotnet-counters) / requests wrk completed in it; .NET targets only.")
    lines.append("JIT ms = time the .NET process spent compiling methods during the measured run (dotnet.jit.compilation.time;")
    lines.append("highest over rounds): near 0 when the warm-up reached steady state; hundreds of ms mean the row partly")
    lines.append("measures tiered compilation, which on 2 cores competes with the requests for CPU.")
    lines.append("CPU µs/req = user + system CPU time of the proxy process(es) during the measured run / requests: less")
    lines.append("sensitive than requests/s to other load on the machine.")
    if has_h2:
        lines.append("h2-* rows: HTTP/2 cleartext (prior knowledge) driven by h2load, -m streams per connection (so more")
        lines.append("requests in flight than wrk's one per connection: compare h2 latency only with h2 latency); the proxies")
        lines.append("talk HTTP/1.1 to the upstream. mean = h2load's mean \"time for request\"; p50/p99 \"-\" (h2load prints")
        lines.append("no percentiles); errors = h2load's \"failed\" (errored streams + non-2xx/3xx responses); alloc B/req")
        lines.append("divides by h2load's \"done\" requests; rps / bare-yarp and rps / nginx are against h2-bare-yarp, h2-nginx.")
    if any(is_tls(t) for t in order):
        lines.append("*-tls rows: HTTPS (TLS termination at the proxy, HTTP/1.1 keep-alive, wrk over TLS); *-tls-handshake rows: the")
        lines.append("same with `Connection: close`, one full TLS handshake per request (requests/s = handshakes/s). rps / nginx")
        lines.append("compares them with nginx-tls (nginx-tls-handshake), rps / bare-yarp is \"-\" (no TLS bare YARP); see \"TLS\".")
    if args.alloc_note:
        lines.append(f"alloc B/req: {args.alloc_note}.")
    lines.append("")
    lines.append(
        "| target | rounds ok | requests/s | mean ms | p50 ms | p99 ms | errors | peak RSS MiB | alloc B/req "
        "| JIT ms | CPU µs/req | start-up ms | rps / bare-yarp | rps / nginx | other CPU % |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in order:
        s = summary[t]
        rounds = f"{s['ok']}" + (f" ({len(s['fail'])} failed)" if s["fail"] else "")
        lines.append(
            f"| {t} | {rounds} | {fnum(s['rps'], '.0f')} | {fnum(s['mean'], '.3f')} | {fnum(s['p50'], '.3f')} | "
            f"{fnum(s['p99'], '.3f')} | {fnum(s['err'], '.0f')} | {fnum(s['rss'], '.1f')} | {fnum(s['alloc'], '.0f')} | "
            f"{fnum(s['jit'], '.0f')} | {fnum(s['cpu'], '.1f')} | {fnum(s['startup'], '.0f')} | {ratio(s['rps'], ref_rps(t, 'bare-yarp'))} | "
            f"{ratio(s['rps'], ref_rps(t, 'nginx'))} | {fnum(s['bg'], '.0f')} |"
        )

    gws = [t for t in order if t.startswith(("gateway", "h2-gateway")) and summary[t]["rps"] is not None]
    ratio_rows = []
    for g in gws:
        for ref in (ref_name(g, "bare-yarp"), ref_name(g, "nginx")):
            if ref in summary and summary[ref]["rps"] is not None:
                a, b = summary[g], summary[ref]
                ratio_rows.append(
                    f"| {g} | {ref} | {ratio(a['rps'], b['rps'])} | {ratio(a['mean'], b['mean'])} | "
                    f"{ratio(a['p50'], b['p50'])} | {ratio(a['p99'], b['p99'])} | {ratio(a['rss'], b['rss'])} | "
                    f"{ratio(a['cpu'], b['cpu'])} | {diff(a['alloc'], b['alloc'])} |"
                )
    if ratio_rows:
        lines.append("\n## Gateway ratios (median / median; requests/s: higher is better, the rest: lower is better)\n")
        lines.append("alloc − ref = gateway's alloc B/req minus the reference's, in bytes per request (the target is")
        if has_h2:
            lines.append("at most +1024 over bare-yarp; h2-gateway-* rows compare with h2-bare-yarp and h2-nginx); \"-\"")
            lines.append("when either side was not measured (nginx never is; h2load gives no p50/p99).\n")
        else:
            lines.append("at most +1024 over bare-yarp); \"-\" when either side was not measured (nginx never is).\n")
        lines.append("| gateway target | vs | requests/s | mean | p50 | p99 | peak RSS | CPU/req | alloc − ref B/req |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        lines.extend(ratio_rows)

    tls_rows = [t for t in order if is_tls(t)]
    if tls_rows:
        lines.extend(tls_section(summary, tls_rows, read_tsv(args.tls) if args.tls else []))

    fails = [(t, f) for t in order for f in summary[t]["fail"]]
    if fails:
        lines.append("\n## Failed runs\n")
        for t, f in fails:
            lines.append(f"- `{t}`: {f}")

    startup = read_tsv(args.startup)
    if startup:
        by: dict[str, list[float]] = {}
        bad: dict[str, list[str]] = {}
        names: list[str] = []
        for name, _round, ms, status in startup:
            if name not in names:
                names.append(name)
            if status == "ok":
                by.setdefault(name, []).append(float(ms))
            else:
                bad.setdefault(name, []).append(status)
        lines.append("\n## Start-up (launch to first proxied 200)\n")
        lines.append("| config | runs ok | median ms | min ms | max ms | notes |")
        lines.append("|---|---:|---:|---:|---:|---|")
        for n in names:
            v = by.get(n, [])
            note = "; ".join(sorted(set(bad.get(n, []))))
            lines.append(
                f"| {n} | {len(v)} | {fnum(med(v), '.0f')} | {fnum(min(v) if v else None, '.0f')} | "
                f"{fnum(max(v) if v else None, '.0f')} | {note} |"
            )

    skipped = read_tsv(args.skipped)
    if skipped:
        lines.append("\n## Skipped targets\n")
        for row in skipped:
            t, reason = row[0], "\t".join(row[1:])
            lines.append(f"- `{t}`: {reason}")

    with open(args.machine, encoding="utf-8") as f:
        lines.append("\n## Machine\n")
        lines.append(f.read().rstrip("\n"))

    text = "\n".join(lines) + "\n"
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def tls_section(summary: dict, tls_rows: list[str], probes: list[list[str]]) -> list[str]:
    """The TLS targets against plaintext gateway-simple, their own plaintext run and the C proxies' TLS runs."""
    def rps(t: str) -> float | None:
        return summary.get(t, {}).get("rps")

    def cpu(t: str) -> float | None:
        return summary.get(t, {}).get("cpu")

    lines = ["\n## TLS\n"]
    keep = [t for t in tls_rows if t.endswith("-tls")]
    hand = [t for t in tls_rows if t.endswith("-tls-handshake")]
    if keep:
        lines.append("Keep-alive (requests/s ratios: higher is better; CPU µs/req: lower is better). \"own plaintext\" is the same")
        lines.append("proxy without TLS (gateway-simple, nginx, haproxy): the cost of TLS on that proxy; \"-\" when that target")
        lines.append("was not in the run.\n")
        lines.append("| target | requests/s | CPU µs/req | rps / gateway-simple | rps / own plaintext | rps / nginx-tls "
                     "| rps / haproxy-tls | CPU/req / own plaintext |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for t in keep:
            plain = TLS_PLAIN.get(t, "")
            lines.append(
                f"| {t} | {fnum(rps(t), '.0f')} | {fnum(cpu(t), '.1f')} | {ratio(rps(t), rps('gateway-simple'))} | "
                f"{ratio(rps(t), rps(plain))} | {ratio(rps(t), rps('nginx-tls'))} | {ratio(rps(t), rps('haproxy-tls'))} | "
                f"{ratio(cpu(t), cpu(plain))} |"
            )
        r = rps("gateway-tls"), rps("gateway-simple")
        if r[0] is not None and r[1] is not None and r[1] > 0:
            verdict = "met" if r[0] / r[1] >= TLS_TARGET_RATIO else "NOT met"
            lines.append(f"\nIssue 13's target, gateway-tls requests/s at least {TLS_TARGET_RATIO:.2f} x gateway-simple's: "
                         f"{r[0] / r[1]:.2f} x, {verdict}.")
        else:
            lines.append("\nIssue 13's target (gateway-tls within 10 % of gateway-simple): not evaluated, the run needs both targets.")
    if hand:
        lines.append("\nHandshake rate: wrk `-H \"Connection: close\"`, so every request is a new TCP connection and a new TLS")
        lines.append("handshake (handshakes/s = requests/s; \"resumes\" below says whether the server would resume a session,")
        lines.append("which wrk does when it can: \"no\" for all means every handshake was a full one). CPU µs/handshake is the")
        lines.append("proxy's CPU per request (handshake, request, close).\n")
        lines.append("| target | handshakes/s | CPU µs/handshake | / nginx-tls-handshake | / haproxy-tls-handshake | / own keep-alive rps |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for t in hand:
            ka = t[: -len("-handshake")]
            lines.append(
                f"| {t} | {fnum(rps(t), '.0f')} | {fnum(cpu(t), '.1f')} | {ratio(rps(t), rps('nginx-tls-handshake'))} | "
                f"{ratio(rps(t), rps('haproxy-tls-handshake'))} | {ratio(rps(t), rps(ka))} |"
            )
    if probes:
        lines.append("\nNegotiated (`openssl s_client -alpn http/1.1` once per target; \"resumes\": a second connection offering")
        lines.append("the first one's session was resumed):\n")
        lines.append("| target | protocol | cipher | key exchange | signature | ALPN | resumes |")
        lines.append("|---|---|---|---|---|---|---|")
        for row in probes:
            row = row + ["-"] * (7 - len(row))
            lines.append("| " + " | ".join(row[:7]) + " |")
        ciphers = {row[2] for row in probes if len(row) > 2}
        if len(ciphers) > 1:
            lines.append(f"\nWarning: the targets negotiated different ciphers ({', '.join(sorted(ciphers))}); the rows compare less well.")
        if any(len(row) > 6 and row[6] == "yes" for row in probes):
            lines.append("\nWarning: a target resumes sessions: its handshake row counts abbreviated handshakes.")
    return lines


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pw = sub.add_parser("parse-wrk")
    pw.add_argument("file")
    ph = sub.add_parser("parse-h2load")
    ph.add_argument("file")
    pt = sub.add_parser("table")
    pt.add_argument("--raw", required=True)
    pt.add_argument("--machine", required=True)
    pt.add_argument("--skipped", required=True)
    pt.add_argument("--startup", required=True)
    pt.add_argument("--params", required=True)
    pt.add_argument("--stamp", required=True)
    pt.add_argument("--out", required=True)
    pt.add_argument("--alloc-note", default="")
    pt.add_argument("--tls", default="")
    ps = sub.add_parser("parse-s-client")
    ps.add_argument("target")
    ps.add_argument("first")
    ps.add_argument("second")
    pa = sub.add_parser("alloc-csv")
    pa.add_argument("file")
    pa.add_argument("requests", type=int)
    pa.add_argument("--counter", default="dotnet.gc.heap.total_allocated")
    pc = sub.add_parser("counter-sum")
    pc.add_argument("file")
    pc.add_argument("--counter", required=True)
    pc.add_argument("--scale", type=float, default=1.0)
    a = p.parse_args()
    if a.cmd == "parse-wrk":
        return parse_wrk(a.file)
    if a.cmd == "parse-h2load":
        return parse_h2load(a.file)
    if a.cmd == "alloc-csv":
        return alloc_csv(a.file, a.requests, a.counter)
    if a.cmd == "parse-s-client":
        return parse_s_client(a.target, a.first, a.second)
    if a.cmd == "counter-sum":
        return counter_sum(a.file, a.counter, a.scale)
    return table(a)


if __name__ == "__main__":
    sys.exit(main())
