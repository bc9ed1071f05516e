#!/usr/bin/python3
"""Renders bench/results/latest.json as the Markdown tables used in docs/benchmarks.md."""

import json
import sys

d = json.load(open(sys.argv[1]))


def f(v, digits=1):
    return "–" if v is None else f"{v:,.{digits}f}"


def table(rows, head):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


m = d.get("machine", {})
print(f"Run {m.get('date')}: {m.get('nproc')} × {m.get('cpu')}, {m.get('ram_gib')} GiB RAM, kernel {m.get('kernel')}, "
      f".NET SDK {m.get('dotnet')}, supervisord {m.get('supervisord')}, PM2 {m.get('pm2')} (Node {m.get('node')}), "
      f"runit {m.get('runit')}, s6 {m.get('s6')}, "
      f"Python {m.get('python')}; load average at start {' '.join(m.get('loadavg_at_start', []))}.\n")
if m.get("cgroup_mounts"):
    print("cgroup mounts: " + "; ".join(f"`{x}`" for x in m["cgroup_mounts"]) + "\n")
if d.get("skipped_peers"):
    print(f"Skipped peers: {d['skipped_peers']}\n")


def dist_rows(section, digits=1):
    rows = []
    for k, v in d.get(section, {}).items():
        if isinstance(v, dict) and "median" in v:
            rows.append([k, f(v["median"], digits), f(v["p95"], digits), f(v["min"], digits), f(v["max"], digits), v["n"]])
    return rows


for title, section, unit in (("Restart latency (SIGKILL → replacement running), ms", "restart", "ms"),
                             ("500 services: start → all running, ms", "many", "ms")):
    print(f"### {title}\n")
    if "error" in d.get(section, {}):
        print(f"failed: {d[section]['error']}\n")
        continue
    print(table(dist_rows(section), ["", "median", "p95", "min", "max", "n"]))
    if section == "restart":
        print("\nPoll period of the detector (µs): " + ", ".join(
            f"{k} {v['poll_period_us']}" for k, v in d.get(section, {}).items() if "poll_period_us" in v))
    print()

idle = d.get("idle", {})
if "idle" in idle:
    print("### 100 idle services: supervisor RSS and CPU\n")
    print(table([[k, f(v["rss_mib_start"]), f(v["rss_mib_end"]), f(v["cpu_ms_per_window"], 0), f(v.get("cpu_ms_task_clock"), 1),
                  f(v["window_s"], 0)]
                 for k, v in idle["idle"].items()],
                ["", "VmRSS MiB (start)", "VmRSS MiB (end)", "CPU ms (/proc, 10 ms ticks)", "CPU ms (perf task-clock)", "window s"]))
    print("\n### Status as a whole process, ms\n")
    print(table([[k, f(v["median"]), f(v["p95"]), f(v["min"]), f(v["max"]), v["n"]] for k, v in idle["status_cli"].items()],
                ["command", "median", "p95", "min", "max", "n"]))
    r = idle["status_rps"]
    print(f"\n### Status requests per second over one connection\n\nmedian {f(r['median'], 0)}/s, min {f(r['min'], 0)}/s, "
          f"max {f(r['max'], 0)}/s over n = {r['n']} runs of {r['requests_per_run']:,} pipelined requests; "
          f"error responses: {r['error_responses']}.\n")
    c = idle["commit_restart"]
    print(f"### Commit → changed service running again, ms\n\nmedian {f(c['median'])}, p95 {f(c['p95'])}, min {f(c['min'])}, "
          f"max {f(c['max'])}, n = {c['n']} (from `git commit` returning; git commit itself took a median "
          f"{c['git_commit_ms_median']} ms).\n")
elif idle:
    print(f"### idle/status/rps/commit\n\nfailed: {idle.get('error')}\n")

logs = d.get("logs", {})
print("### Log capture, one service writing as fast as it can\n")
if "error" in logs:
    print(f"failed: {logs['error']}\n")
else:
    print(table([[k, f(v["median"]), f(v["min"]), f(v["max"]), v["n"], f"{v['lines_per_run']:,}", v["lines_lost_per_run"]]
                 for k, v in logs.items()], ["", "MB/s median", "min", "max", "n", "lines/run", "lines lost per run"]))
    print()

crash = d.get("crash", {})
print("### Crash loop (`/bin/false`), supervisor CPU\n")
if "error" in crash:
    print(f"failed: {crash['error']}\n")
else:
    print(table([[k, f(v["cpu_ms"], 0), f(v["window_s"], 0), f(v["cpu_percent_of_core"], 2), v.get("restarts", "–"),
                  (v.get("final_state") or "–") + ("/" + v["final_sub_state"] if v.get("final_sub_state") else "")]
                 for k, v in crash.items()], ["", "CPU ms", "window s", "% of a core", "restarts", "state at end"]))
    print()

health = d.get("health", {})
print("### 200 services with 1 s health checks\n")
if "error" in health:
    print(f"failed: {health['error']}\n")
for name, h in health.items():
    if not isinstance(h, dict) or "cpu_ms" not in h:
        continue
    print(f"- **{name}**: daemon CPU {f(h['cpu_ms'], 0)} ms over {f(h['window_s'], 0)} s = {h['cpu_percent_of_core']} % of a core; "
          f"{h['checks']} checks received ({h['checks_per_s']}/s) from {h['services_checked']} of {h['services']} services.", end="")
    if "interval_between_checks_ms" in h:
        i = h["interval_between_checks_ms"]
        print(f" Interval between two checks of one service: median {i['median']} ms, p5 {i['p5']}, p95 {i['p95']}, "
              f"min {i['min']}, max {i['max']} (n = {i['n']}).", end="")
    print()
print()

stop = d.get("stop", {})
if stop:
    print("### Stopping N services at once, s (median; per service in brackets)\n")
    if "error" in stop:
        print(f"failed: {stop['error']}\n")
    else:
        sizes = sorted({int(n) for v in stop.values() for n in v}, key=int)
        rows = []
        for k, v in stop.items():
            cells = []
            for n in sizes:
                r = v.get(str(n))
                cells.append("–" if r is None else "failed" if "error" in r
                             else f"{f(r['median'], 2)} ({f(r['median'] / n * 1000, 2)} ms)")
            ok = [r for r in v.values() if "error" not in r]
            left = sum(r["processes_left"] for r in ok)
            cgroups = sum(r["cgroups_left"] for r in ok)
            runs = max((r["n"] for r in ok), default=0)
            rows.append([k] + cells + [runs, f"{left} / {cgroups}"])
        print(table(rows, [""] + [f"{n:,}" for n in sizes] + ["runs", "processes / cgroups left"]))
        for k, v in stop.items():
            for n, r in v.items():
                if "error" in r:
                    print(f"\n{k}, {n} services failed: {r['error']}")
        print()
