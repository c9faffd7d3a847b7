#!/usr/bin/env python3
"""Ratio table of the hub against the peers, from run_peer.py results (<name>-r<k>.json).

usage: ratios.py RESULTS_DIR [--hub PATH] [--n N]     (Markdown on stdout)

Per scenario the median over its runs of: records/s in the sink (run_peer.py's figure),
HTTP requests/s as wrk saw them (REQS / DURATION_US of bin/post_ndjson.lua; for the hub a
request counts when it is answered 202, i.e. durable in the journal), CPU us per record,
peak RSS, and wrk's p50/p99 latency for the HTTP runs.
"""
import argparse, glob, json, os, re, statistics, time

HUB_TCP, HUB_HTTP = "hub-tcp-store", "hub-http-store"
SNG_FSYNC, SNG_FILE, NR_HTTP = "syslogng-tcp-file-fsync", "syslogng-tcp-file", "nodered-http-file"
ORDER = [SNG_FSYNC, SNG_FILE, HUB_TCP, NR_HTTP, HUB_HTTP]
TIER = {
    SNG_FSYNC: "file, fsync per write batch",
    SNG_FILE: "file, write(2) only",
    HUB_TCP: "journal fsync per group commit, then SQLite WAL synchronous=FULL",
    NR_HTTP: "file append, no fsync; 200 after the write",
    HUB_HTTP: "202 after journal fsync per group commit, then SQLite WAL synchronous=FULL",
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def wrk_field(run, key):
    m = re.search(r"\b%s=(\d+)" % re.escape(key), run.get("wrk_stdout") or "")
    return int(m.group(1)) if m else None


def wrk_thread_rate(run):
    """wrk's "Req/Sec" thread average (sampled only while a thread runs) x threads: the rate of
    answers while sending. REQS / DURATION_US also counts the time until run_peer.py stops wrk,
    which is when the sink holds N records, so for the hub it is the store rate, not the 202 rate."""
    m = re.search(r"Req/Sec\s+([0-9.]+)([kM]?)", run.get("wrk_stdout") or "")
    if not m:
        return None
    cmd = run.get("wrk_cmd") or []
    threads = int(cmd[cmd.index("-t") + 1]) if "-t" in cmd else 1
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6}[m.group(2)] * threads


def metrics(runs):
    def per_run(r):
        out = r.get("records_out")
        reqs, dur = wrk_field(r, "REQS"), wrk_field(r, "DURATION_US")
        p50, p99 = wrk_field(r, "LAT_P50_US"), wrk_field(r, "LAT_P99_US")
        return {
            "rps": r.get("records_per_s"),
            "req_s": reqs * 1e6 / dur if reqs and dur else None,
            "ack_s": wrk_thread_rate(r),
            "cpu_us": r["cpu_s_load"] / out * 1e6 if out and r.get("cpu_s_load") is not None else None,
            "rss_mib": r["peak_rss_kb"] / 1024 if r.get("peak_rss_kb") else None,
            "p50_ms": p50 / 1000 if p50 is not None else None,
            "p99_ms": p99 / 1000 if p99 is not None else None,
            "non2xx": wrk_field(r, "NON2XX"),
        }
    rows = [per_run(r) for r in runs]
    m = {k: med([x[k] for x in rows]) for k in rows[0]}
    m["runs"] = len(runs)
    m["n"] = sorted({r.get("n_expected") for r in runs})
    m["records"] = sorted({r.get("records_out") for r in runs if r.get("records_out") is not None})
    m["first"] = min((r.get("started", "") for r in runs), default="")
    m["ok"] = all(r.get("valid_last_record") and not r.get("error") and not r.get("timed_out")
                  and not r.get("leftover_pids") and not (per_run(r)["non2xx"] or 0) for r in runs)
    return m


def f(x, spec, unit=""):
    return "-" if x is None else format(x, spec) + unit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--hub", default="")
    ap.add_argument("--n", type=int)
    a = ap.parse_args()
    groups = {}
    for p in sorted(glob.glob(os.path.join(a.results, "*-r[0-9]*.json"))):
        with open(p) as fh:
            d = json.load(fh)
        groups.setdefault(d["name"], []).append(d)
    m = {name: metrics(runs) for name, runs in groups.items() if name in ORDER}

    print("# Hub vs peers, side by side")
    print()
    print(f"Written {time.strftime('%Y-%m-%d %H:%M')} from `{a.results}`; hub `{a.hub}`; "
          f"{os.cpu_count()} CPUs, load average {open('/proc/loadavg').read().split()[0]} at the end.")
    print("Medians over each scenario's runs. One series on one machine: read the ratios, not the absolute figures.")
    print()
    print("| scenario | durability | runs | N | records/s (sink) | req/s (wrk total) | answers/s while sending "
          "| CPU µs / record | peak RSS MiB | p50 ms | p99 ms | first run | ok |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in ORDER:
        if name not in m:
            print(f"| {name} | {TIER[name]} | 0 | - | not measured | | | | | | | | |")
            continue
        x = m[name]
        print(f"| {name} | {TIER[name]} | {x['runs']} | {','.join(map(str, x['n']))} | {f(x['rps'], ',.0f')} | "
              f"{f(x['req_s'], ',.0f')} | {f(x['ack_s'], ',.0f')} | {f(x['cpu_us'], ',.1f')} | {f(x['rss_mib'], ',.1f')} | "
              f"{f(x['p50_ms'], '.2f')} | {f(x['p99_ms'], '.2f')} | {x['first'][:16]} | "
              f"{'yes' if x['ok'] else 'CHECK'} |")
    print()

    def ratio(hub, peer, key, target=None, label=""):
        if hub not in m or peer not in m or m[hub][key] is None or m[peer][key] is None or not m[peer][key]:
            return f"| {label} | {hub} ÷ {peer} | not measured | {f'≥ {target}×' if target else ''} |"
        r = m[hub][key] / m[peer][key]
        verdict = ""
        if target:
            verdict = f"≥ {target}×: " + ("met" if r >= target else "missed")
        warn = ""
        if m[hub]["n"] != m[peer]["n"]:
            warn = f" (different N: {m[hub]['n']} vs {m[peer]['n']})"
        return f"| {label} | {hub} ÷ {peer} | **{r:,.2f}×**{warn} | {verdict} |"

    def inv(hub, peer, key, label):  # peer / hub: how many times less the hub needs
        if hub not in m or peer not in m or not m[hub][key] or m[peer][key] is None:
            return f"| {label} | {peer} ÷ {hub} | not measured | |"
        return f"| {label} | {peer} ÷ {hub} | {m[peer][key] / m[hub][key]:,.2f}× | |"

    print("| figure | ratio | value | target |")
    print("|---|---|---|---|")
    print(ratio(HUB_TCP, SNG_FSYNC, "rps", 2, "TCP records/s into the sink"))
    print(ratio(HUB_TCP, SNG_FILE, "rps", None, "TCP records/s (peer without fsync, context)"))
    print(inv(HUB_TCP, SNG_FSYNC, "cpu_us", "TCP CPU µs per record (how many times less)"))
    print(ratio(HUB_TCP, SNG_FSYNC, "rss_mib", None, "TCP peak RSS"))
    print(ratio(HUB_HTTP, NR_HTTP, "rps", 20, "HTTP records/s into the sink (1 record per request)"))
    print(ratio(HUB_HTTP, NR_HTTP, "req_s", 20, "HTTP requests/s, wrk REQS / duration"))
    print(ratio(HUB_HTTP, NR_HTTP, "ack_s", None, "HTTP answers/s while sending (hub: 202 = journal-durable)"))
    print(inv(HUB_HTTP, NR_HTTP, "cpu_us", "HTTP CPU µs per record (how many times less)"))
    print(ratio(HUB_HTTP, NR_HTTP, "rss_mib", None, "HTTP peak RSS"))
    print(ratio(HUB_HTTP, NR_HTTP, "p50_ms", None, "HTTP p50 latency"))
    print(ratio(HUB_HTTP, NR_HTTP, "p99_ms", None, "HTTP p99 latency"))
    print()
    print("Notes: the hub's records/s counts rows in its SQLite store (`records`, through the view "
          "`customers`), so it is the end-to-end rate including the asynchronous store apply; its req/s "
          "(REQS / DURATION_US) runs until run_peer.py stops wrk, i.e. until the store holds N, so it is "
          "close to the store rate; 'answers/s while sending' is wrk's Req/Sec thread average, the rate of "
          "202s (durable in the journal) while the load ran. Node-RED answers after its file write, so "
          "its figures are one path. CPU is the measured process only (not wrk or the TCP sender, "
          "which share the same cores).")
    if a.n is not None:
        stale = [n for n in m if m[n]["n"] != [a.n]]
        if stale:
            print()
            print(f"WARNING: results with another N than {a.n} in the directory: {', '.join(stale)}")


if __name__ == "__main__":
    main()
