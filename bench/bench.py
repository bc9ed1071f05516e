#!/usr/bin/python3
"""GitProc benchmark suite: GitProc against supervisord, PM2, runit and s6 on this machine. Run through bench/run.sh.

Only Debian's python3 standard library is used. Every supervisor started here is stopped by its pid, and every
temporary directory is removed, also on failure or Ctrl-C.
"""

import argparse
import atexit
import datetime
import http.server
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procwatch import ChildWatcher, GoneWatcher, cmdline, cpu_ms, rss_kib, start_ticks, stat_fields  # noqa: E402
import peers  # noqa: E402
from peers import Pm2, Runit, S6, Service, Supervisord, remove, sleep_match  # noqa: E402

EXTRA_CONFIG = {}


def GitProc(work, exe, config=None):  # noqa: N802 - stands in for the class, adding --gitproc-config
    merged = dict(EXTRA_CONFIG)
    merged.update(config or {})
    return peers.GitProc(work, exe, config=merged or None)


GitProc.unit_text = peers.GitProc.unit_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIVE = []  # supervisors currently running, stopped on exit whatever happens
RESULTS = {}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stop_all():
    while LIVE:
        peer = LIVE.pop()
        try:
            peer.stop()
        except Exception as ex:  # noqa: BLE001 - cleanup must go on
            log(f"cleanup of {peer.name} failed: {ex}")


def live(peer):
    LIVE.append(peer)
    return peer


def done(peer):
    peer.stop()
    if peer in LIVE:
        LIVE.remove(peer)


def pct(values, p):
    s = sorted(values)
    if not s:
        return None
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values, unit):
    return {"median": statistics.median(values), "p95": pct(values, 95), "min": min(values), "max": max(values),
            "n": len(values), "unit": unit, "values": [round(v, 4) for v in values]}


def have(cmd):
    return shutil.which(cmd) is not None


# ---------------------------------------------------------------- restart latency

def restart_trials(peer, trials, spacing):
    """SIGKILL the single sleep child, then poll for the replacement; returns latencies in ms and the poll period."""
    w = ChildWatcher(peer.pid, sleep_match)
    deadline = time.time() + 30
    while not w.poll():
        if time.time() > deadline:
            raise RuntimeError(f"{peer.name}: the sleep service never ran")
        time.sleep(0.001)
    lat, polls, poll_time = [], 0, 0.0
    for _ in range(trials):
        w.prune()
        while not w.poll():
            time.sleep(0.001)
        old = next(iter(w.children))
        peer.remember_children([old])
        w.forget(old)
        t0 = time.perf_counter()
        os.kill(old, signal.SIGKILL)
        n = 0
        while True:
            kids = w.poll()
            n += 1
            if kids:
                t1 = time.perf_counter()
                break
            if time.perf_counter() - t0 > 10:
                raise RuntimeError(f"{peer.name}: no replacement within 10 s")
        lat.append((t1 - t0) * 1000)
        polls += n
        poll_time += t1 - t0
        peer.remember_children(kids)
        time.sleep(spacing)
    res = summary(lat, "ms")
    res["poll_period_us"] = round(poll_time / polls * 1e6, 1)
    return res


def scenario_restart(ctx):
    out = {}
    sleep = ["/bin/sleep", "100000"]
    g = live(GitProc(os.path.join(ctx.work, "restart-gitproc"), ctx.gitproc))
    g.write_units([Service("s", sleep, gitproc_extra=["RestartSec=0"], gitproc_unit_extra=["StartLimitIntervalSec=0"])])
    g.commit()
    g.start()
    time.sleep(2)
    out["GitProc"] = restart_trials(g, ctx.trials, 0.2)
    done(g)
    g = live(GitProc(os.path.join(ctx.work, "restart-gitproc-nocg"), ctx.gitproc, config={"ResourceControl": {"CgroupForEveryService": False}}))
    g.write_units([Service("s", sleep, gitproc_extra=["RestartSec=0"], gitproc_unit_extra=["StartLimitIntervalSec=0"])])
    g.commit()
    g.start()
    time.sleep(2)
    out["GitProc, CgroupForEveryService=false"] = restart_trials(g, ctx.trials, 0.2)
    done(g)
    if ctx.supervisord:
        s = live(Supervisord(os.path.join(ctx.work, "restart-sup"), [Service("s", sleep)]))
        s.start()
        out["supervisord"] = restart_trials(s, ctx.trials, 0.2)
        done(s)
    if ctx.pm2:
        p = live(Pm2(os.path.join(ctx.work, "restart-pm2"), [Service("s", sleep)]))
        p.start()
        # PM2 counts a restart of a process younger than min_uptime (1 s) as unstable and gives up after 15.
        out["PM2"] = restart_trials(p, ctx.trials, 1.1)
        done(p)
    return out


# ---------------------------------------------------------------- 500 services

def wait_children(peer, count, t0, timeout=120):
    w = ChildWatcher(peer.pid, sleep_match)
    while len(w.poll()) < count:
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{peer.name}: only {len(w.children)} of {count} services after {timeout} s")
        time.sleep(0.0005)
    t1 = time.perf_counter()
    peer.remember_children(w.children)
    return (t1 - t0) * 1000


def scenario_many(ctx):
    n_svc, runs = ctx.many, ctx.many_runs
    services = [Service(f"s{i:03d}", ["/bin/sleep", "100000"]) for i in range(n_svc)]
    out = {}
    cold, apply = [], []
    for r in range(runs):
        g = live(GitProc(os.path.join(ctx.work, f"many-gitproc-{r}"), ctx.gitproc))
        g.write_units(services)
        g.commit()
        t0 = time.perf_counter()
        g.start(wait_socket=False)
        cold.append(wait_children(g, n_svc, t0))
        done(g)
        remove(g.work)

        g = live(GitProc(os.path.join(ctx.work, f"many-gitproc-apply-{r}"), ctx.gitproc))
        g.write_units([Service("placeholder", ["/bin/sleep", "100000"])])
        g.commit()
        g.start()
        wait_children(g, 1, time.perf_counter())
        time.sleep(1.5)
        g.write_units(services)
        env_t = time.perf_counter()
        g.commit("add 500 services")
        t0 = time.perf_counter()
        apply.append(wait_children(g, n_svc + 1, t0))
        out.setdefault("commit_duration_ms", []).append(round((t0 - env_t) * 1000, 1))
        done(g)
        remove(g.work)
    out["GitProc cold (daemon start)"] = summary(cold, "ms")
    out["GitProc commit-apply"] = summary(apply, "ms")
    if ctx.supervisord:
        times = []
        for r in range(runs):
            s = live(Supervisord(os.path.join(ctx.work, f"many-sup-{r}"), services))
            t0 = time.perf_counter()
            s.start()
            times.append(wait_children(s, n_svc, t0))
            done(s)
            remove(s.work)
        out["supervisord (supervisord start, autostart)"] = summary(times, "ms")
    if ctx.pm2:
        times = []
        for r in range(runs):
            p = live(Pm2(os.path.join(ctx.work, f"many-pm2-{r}"), services))
            p.ping()
            t0 = time.perf_counter()
            proc = subprocess.Popen(["pm2", "start", p.eco], env=p.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(wait_children(p, n_svc, t0))
            proc.wait()
            done(p)
            remove(p.work)
        out["PM2 (pm2 start ecosystem, daemon up)"] = summary(times, "ms")
    return out


# ---------------------------------------------------------------- idle with 100 services, status, rps, commit latency

def cpu_window(pids, seconds):
    """CPU ms of each pid over the window: from /proc (10 ms ticks) and, where perf exists, its task-clock (ns)."""
    perf = {}
    if have("perf"):
        for k, v in pids.items():
            perf[k] = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "task-clock", "-p", str(v), "--", "sleep", str(seconds)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    before = {k: cpu_ms(v) for k, v in pids.items()}
    time.sleep(seconds)
    ticks = {k: cpu_ms(v) - before[k] for k, v in pids.items()}
    exact = {}
    for k, proc in perf.items():
        err = proc.communicate()[1]
        m = re.search(r"^([\d.]+),msec,task-clock", err, re.M)
        exact[k] = float(m.group(1)) if m else None
    return ticks, exact


def time_command(argv, runs, warmup, env=None):
    for _ in range(warmup):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
        times.append((time.perf_counter() - t0) * 1000)
        if rc != 0:
            raise RuntimeError(f"{argv} exited {rc}")
    return summary(times, "ms")


def status_rps(sock_path, total, batch=1000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    req = b'{"command":"status","service":"s000"}\n'
    s.sendall(req)
    first = b""
    while not first.endswith(b"\n"):
        first += s.recv(65536)
    if b'"success"' not in first:
        raise RuntimeError(f"status failed: {first[:200]!r}")

    def sender():
        chunk = req * batch
        for _ in range(total // batch):
            s.sendall(chunk)

    t0 = time.perf_counter()
    th = threading.Thread(target=sender)
    th.start()
    got, errors = 0, 0
    while got < total:
        data = s.recv(1 << 20)
        if not data:
            raise RuntimeError("connection closed")
        got += data.count(b"\n")
        errors += data.count(b'"error"')
    t1 = time.perf_counter()
    th.join()
    s.close()
    return total / (t1 - t0), errors


def commit_restart_trials(g, trials):
    w = ChildWatcher(g.pid, lambda a: sleep_match(a))
    lat, commit_ms = [], []
    for i in range(trials):
        arg = str(200000 + i)
        svc = Service("s000", ["/bin/sleep", arg])
        with open(os.path.join(g.repo, "s000.service"), "w") as f:
            f.write(GitProc.unit_text(svc))
        c0 = time.perf_counter()
        g.commit(f"change s000 ({i})")
        t0 = time.perf_counter()
        commit_ms.append((t0 - c0) * 1000)
        while True:
            w.poll()
            hit = [p for p in w.children if (stat_fields(p) or (0, b"Z"))[1] != b"Z" and
                   (lambda a: a is not None and len(a) > 1 and a[1] == arg.encode())(__import__("procwatch").cmdline(p))]
            if hit:
                t1 = time.perf_counter()
                break
            if time.perf_counter() - t0 > 15:
                raise RuntimeError("commit not applied within 15 s")
            time.sleep(0.0005)
        g.remember_children(hit)
        lat.append((t1 - t0) * 1000)
        time.sleep(0.3)
    res = summary(lat, "ms")
    res["git_commit_ms_median"] = round(statistics.median(commit_ms), 1)
    return res


def scenario_idle(ctx):
    n = 100
    services = [Service(f"s{i:03d}", ["/bin/sleep", "100000"]) for i in range(n)]
    peers = {}
    g = live(GitProc(os.path.join(ctx.work, "idle-gitproc"), ctx.gitproc))
    g.write_units(services)
    g.commit()
    g.start()
    peers["GitProc"] = g
    if ctx.gitproc_jit:
        j = live(GitProc(os.path.join(ctx.work, "idle-gitproc-jit"), ctx.gitproc_jit))
        j.write_units(services)
        j.commit()
        j.start()
        peers["GitProc (JIT, framework-dependent)"] = j
    if ctx.supervisord:
        s = live(Supervisord(os.path.join(ctx.work, "idle-sup"), services))
        s.start()
        s.wait_socket()
        peers["supervisord"] = s
    if ctx.pm2:
        p = live(Pm2(os.path.join(ctx.work, "idle-pm2"), services))
        p.start()
        peers["PM2"] = p
    for p in peers.values():
        wait_children(p, n, time.perf_counter())
    log(f"idle: {n} services running under {', '.join(peers)}; settling {ctx.settle} s")
    time.sleep(ctx.settle)
    pids = {k: v.pid for k, v in peers.items()}
    rss_before = {k: rss_kib(v) for k, v in pids.items()}
    cpu, exact = cpu_window(pids, ctx.window)
    rss_after = {k: rss_kib(v) for k, v in pids.items()}
    out = {"idle": {k: {"cpu_ms_per_window": round(cpu[k], 1), "window_s": ctx.window,
                        "cpu_ms_task_clock": round(exact[k], 2) if exact.get(k) is not None else None,
                        "rss_mib_start": round(rss_before[k] / 1024, 1), "rss_mib_end": round(rss_after[k] / 1024, 1)}
                    for k in pids}}

    log("status CLI timings")
    cli = {}
    env = dict(os.environ, GITPROC_SOCKET=g.socket)
    if ctx.gitproc_jit:
        cli["gitproc status (JIT, framework-dependent)"] = time_command([ctx.gitproc_jit, "status", "s000"], ctx.cli_runs, 3, env)
    cli[f"gitproc status ({ctx.gitproc_label})"] = time_command([ctx.gitproc, "status", "s000"], ctx.cli_runs, 3, env)
    if ctx.supervisord:
        cli["supervisorctl status s000"] = time_command(["supervisorctl", "-c", peers["supervisord"].conf, "status", "s000"],
                                                       ctx.cli_runs, 3)
    if ctx.pm2:
        cli["pm2 describe s000"] = time_command(["pm2", "describe", "s000"], ctx.cli_runs, 3, peers["PM2"].env)
    out["status_cli"] = cli

    log("status requests per second over one connection")
    rates, errs = [], 0
    for _ in range(5):
        r, e = status_rps(g.socket, ctx.rps_requests)
        rates.append(r)
        errs += e
    out["status_rps"] = summary(rates, "requests/s")
    out["status_rps"]["requests_per_run"] = ctx.rps_requests
    out["status_rps"]["error_responses"] = errs

    log("commit-to-restarted latency")
    out["commit_restart"] = commit_restart_trials(g, ctx.trials)
    for k, p in list(peers.items()):
        done(p)
        remove(p.work)
    return out


# ---------------------------------------------------------------- log throughput

PAYLOAD = ("benchmark log line " + "0123456789" * 9)[:99]  # 99 chars + newline = 100 bytes


def write_writer(work, lines):
    path = os.path.join(work, "writer.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                f"date +%s%N > {work}/start.$$\n"
                f"yes '{PAYLOAD}' | head -n {lines}\n")
    os.chmod(path, 0o755)
    return path


def log_files_size(directory, prefix):
    total = 0
    if not os.path.isdir(directory):
        return 0
    for name in os.listdir(directory):
        if name.startswith(prefix):
            total += os.path.getsize(os.path.join(directory, name))
    return total


def wait_log(directory, prefix, expected_size, start_file_glob_dir, baseline_starts):
    """Polls the size of the log files until it reaches expected_size (or stalls for 3 s); returns (end time, size)."""
    last_size, last_change = -1, time.time()
    while True:
        size = log_files_size(directory, prefix)
        now = time.time()
        if size != last_size:
            last_size, last_change = size, now
        if size >= expected_size:
            return now, size
        if now - last_change > 3:
            return last_change, size
        time.sleep(0.001)


def count_payload_lines(directory, prefix):
    needle = (PAYLOAD + "\n").encode()
    total = 0
    for name in os.listdir(directory):
        if name.startswith(prefix):
            with open(os.path.join(directory, name), "rb") as f:
                total += f.read().count(needle)
    return total


def newest_start(work, seen):
    names = [n for n in os.listdir(work) if n.startswith("start.") and n not in seen]
    if not names:
        return None, None
    name = names[0]
    with open(os.path.join(work, name)) as f:
        text = f.read()
    if not text.endswith("\n"):
        return None, None  # date has created the file but not written it yet
    return name, int(text.strip()) / 1e9


def log_runs(peer_name, work, logdir, prefix, per_line_overhead, lines, runs, start_fn):
    results, lost = [], []
    seen = set()
    # Run 0 is a warm-up (a cold daemon JIT-compiles its log path while the writer runs) and is not counted.
    for r in range(runs + 1):
        base_size = log_files_size(logdir, prefix) if os.path.isdir(logdir) else 0
        base_lines = count_payload_lines(logdir, prefix) if os.path.isdir(logdir) else 0
        start_fn(r)
        deadline = time.time() + 30
        while True:
            name, t_start = newest_start(work, seen)
            if name:
                seen.add(name)
                break
            if time.time() > deadline:
                raise RuntimeError(f"{peer_name}: writer did not start")
            time.sleep(0.005)
        expected = base_size + lines * (100 + per_line_overhead)
        t_end, size = wait_log(logdir, prefix, expected, work, None)
        got = count_payload_lines(logdir, prefix) - base_lines
        if r == 0:
            continue
        lost.append(lines - got)
        results.append(lines * 100 / (t_end - t_start) / 1e6)
    res = summary(results, "MB/s (payload bytes)")
    res["lines_per_run"] = lines
    res["lines_lost_per_run"] = lost
    return res


def scenario_logs(ctx):
    out = {}
    lines = ctx.log_lines
    work = os.path.join(ctx.work, "logs-gitproc")
    os.makedirs(work)
    writer = write_writer(work, lines)
    g = live(GitProc(work, ctx.gitproc, config={"Logs": {"MaxFileBytes": 8 * 1024 ** 3, "MaxFiles": 2}}))
    g.write_units([Service("writer", ["/bin/sh", writer], restart=False)])
    g.commit()

    def gp_start(r):
        if r == 0:
            g.start()
        else:
            res = g.cli("start", "writer")
            if res.returncode != 0:
                raise RuntimeError(f"gitproc start writer: {res.stderr}")

    def settle_stopped():
        # The writer must have exited before the next start.
        for _ in range(500):
            if "Status: running" not in g.cli("status", "writer").stdout:
                return
            time.sleep(0.02)

    def gp_start_after(r):
        if r > 0:
            settle_stopped()
        gp_start(r)

    out["GitProc (timestamped)"] = log_runs("GitProc", work, g.logs, "writer.log", 22, lines, ctx.log_runs, gp_start_after)
    with open(os.path.join(g.logs, "writer.log"), "rb") as f:
        sample = f.readline().decode().rstrip("\n")
    out["GitProc (timestamped)"]["sample_line"] = sample
    done(g)
    remove(work)

    if ctx.supervisord:
        work = os.path.join(ctx.work, "logs-sup")
        os.makedirs(work)
        writer = write_writer(work, lines)
        svc = Service("writer", ["/bin/sh", writer], restart=False)
        svc.manual = True
        svc.logfile = os.path.join(work, "out", "writer.log")
        os.makedirs(os.path.join(work, "out"))
        s = live(Supervisord(work, [svc]))
        s.start()
        s.wait_socket()

        def sup_start(r):
            res = s.ctl("start", "writer")
            if "ERROR" in res.stdout and "already started" not in res.stdout:
                raise RuntimeError(res.stdout)

        out["supervisord (no timestamps)"] = log_runs("supervisord", work, os.path.join(work, "out"), "writer.log", 0,
                                                      lines, ctx.log_runs, sup_start)
        done(s)
        remove(work)
    if ctx.pm2:
        work = os.path.join(ctx.work, "logs-pm2")
        os.makedirs(work)
        writer = write_writer(work, lines)
        svc = Service("writer", ["/bin/sh", writer], restart=False)
        svc.logfile = os.path.join(work, "out", "writer.log")
        os.makedirs(os.path.join(work, "out"))
        p = live(Pm2(work, [svc]))
        p.ping()

        def pm2_start(r):
            if r == 0:
                p.pm2("start", p.eco)
            else:
                p.pm2("restart", "writer")

        out["PM2 (no timestamps)"] = log_runs("PM2", work, os.path.join(work, "out"), "writer.log", 0, lines,
                                              ctx.log_runs, pm2_start)
        done(p)
        remove(work)
    return out


# ---------------------------------------------------------------- crash loop

def gitproc_cpu_after_commit(ctx, tag, services, seconds):
    g = live(GitProc(os.path.join(ctx.work, f"crash-{tag}"), ctx.gitproc))
    g.write_units([Service("placeholder", ["/bin/sleep", "100000"])])
    g.commit()
    g.start()
    wait_children(g, 1, time.perf_counter())
    time.sleep(ctx.settle)
    g.write_units(services)
    c0 = cpu_ms(g.pid)
    g.commit(tag)
    time.sleep(seconds)
    used = cpu_ms(g.pid) - c0
    st = g.cli("status", services[0].name).stdout
    done(g)
    remove(g.work)
    m = re.search(r"Restarts:\s*(\d+)", st)
    state = re.search(r"Status:\s*(\S+)", st)
    sub = re.search(r"Sub-State:\s*(\S+)", st)
    return {"cpu_ms": round(used, 1), "window_s": seconds, "cpu_percent_of_core": round(used / seconds / 10, 3),
            "restarts": int(m.group(1)) if m else None, "final_state": state.group(1) if state else None,
            "final_sub_state": sub.group(1) if sub else None}


def scenario_crash(ctx):
    out = {}
    false = ["/bin/false"]
    out["GitProc defaults (RestartSec=100ms, StartLimitBurst=5 per 10s)"] = gitproc_cpu_after_commit(
        ctx, "defaults", [Service("crash", false)], ctx.window)
    out["GitProc backoff, no start limit (RestartSteps=5, RestartMaxDelaySec=2s, StartLimitIntervalSec=0)"] = \
        gitproc_cpu_after_commit(ctx, "backoff", [Service("crash", false, gitproc_extra=[
            "RestartSec=100ms", "RestartSteps=5", "RestartMaxDelaySec=2s"], gitproc_unit_extra=["StartLimitIntervalSec=0"])],
            ctx.window)
    out["GitProc no limit, no backoff (RestartSec=100ms, StartLimitIntervalSec=0)"] = gitproc_cpu_after_commit(
        ctx, "nolimit", [Service("crash", false, gitproc_unit_extra=["StartLimitIntervalSec=0"])], ctx.window)
    peers = {}
    if ctx.supervisord:
        s = live(Supervisord(os.path.join(ctx.work, "crash-sup"), [Service("crash", false)]))
        peers["supervisord defaults (startretries=3)"] = s
    if ctx.pm2:
        p = live(Pm2(os.path.join(ctx.work, "crash-pm2"), [Service("crash", false)]))
        p.ping()
        peers["PM2 defaults (restart_delay=0, max_restarts=16)"] = p
    if peers:
        for k, p in peers.items():
            if isinstance(p, Supervisord):
                # supervisord starts its programs itself: settle before a program exists is impossible, so CPU counts from its start.
                p.start()
        time.sleep(1)
        c0 = {k: cpu_ms(p.pid) for k, p in peers.items()}
        for k, p in peers.items():
            if isinstance(p, Pm2):
                p.pm2("start", p.eco)
        time.sleep(ctx.window)
        for k, p in peers.items():
            used = cpu_ms(p.pid) - c0[k]
            out[k] = {"cpu_ms": round(used, 1), "window_s": ctx.window, "cpu_percent_of_core": round(used / ctx.window / 10, 3)}
            done(p)
            remove(p.work)
    return out


# ---------------------------------------------------------------- health checks

class _Handler(http.server.BaseHTTPRequestHandler):
    hits = []
    protocol_version = "HTTP/1.1"  # keep-alive, as most health endpoints answer; health_run also measures HTTP/1.0

    def do_GET(self):  # noqa: N802 - http.server's naming
        _Handler.hits.append((self.path, time.monotonic()))
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: 200 new connections a second overflow it, and the kernel's SYN
    # cookies and retransmits then delay checks by seconds, which would be the harness's cost, not the daemon's.
    request_queue_size = 1024


def scenario_health(ctx):
    return {"keep-alive (HTTP/1.1 endpoint)": health_run(ctx, "HTTP/1.1"),
            "a new connection per check (HTTP/1.0 endpoint)": health_run(ctx, "HTTP/1.0")}


def health_run(ctx, protocol):
    n = ctx.health_services
    _Handler.protocol_version = protocol
    server = _Server(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    try:
        services = [Service(f"h{i:03d}", ["/bin/sleep", "100000"], gitproc_extra=[
            f"HealthCheckURL=http://127.0.0.1:{port}/h{i:03d}", "HealthCheckInterval=1s"]) for i in range(n)]
        g = live(GitProc(os.path.join(ctx.work, "health-" + protocol.replace("/", "")), ctx.gitproc))
        g.write_units(services)
        g.commit()
        g.start()
        wait_children(g, n, time.perf_counter())
        time.sleep(ctx.settle)
        _Handler.hits = []
        c0 = cpu_ms(g.pid)
        m0 = time.monotonic()
        time.sleep(ctx.window)
        used = cpu_ms(g.pid) - c0
        m1 = time.monotonic()
        hits = [h for h in _Handler.hits if m0 <= h[1] <= m1]
        done(g)
        remove(g.work)
    finally:
        server.shutdown()
        server.server_close()
    per = {}
    for path, t in hits:
        per.setdefault(path, []).append(t)
    intervals = []
    for ts in per.values():
        ts.sort()
        intervals += [(b - a) * 1000 for a, b in zip(ts, ts[1:])]
    out = {"services": n, "cpu_ms": round(used, 1), "window_s": ctx.window,
           "cpu_percent_of_core": round(used / ctx.window / 10, 3), "checks": len(hits),
           "checks_per_s": round(len(hits) / ctx.window, 1), "services_checked": len(per)}
    if intervals:
        out["interval_between_checks_ms"] = {k: round(v, 1) for k, v in summary(intervals, "ms").items()
                                             if k in ("median", "p95", "min", "max", "n")}
        out["interval_between_checks_ms"]["p5"] = round(pct(intervals, 5), 1)
    return out


# ---------------------------------------------------------------- stopping N services at once

CGROUP_HIERARCHIES = ("memory", "cpu", "cpuacct", "pids", "unified")


def cgroup_dirs(root):
    return [d for d in (os.path.join("/sys/fs/cgroup", h, root) for h in CGROUP_HIERARCHIES) if os.path.isdir(d)]


def cgroup_children(root):
    """Names of the service cgroups left under a daemon's cgroup root, over every hierarchy."""
    return sorted({e.name for d in cgroup_dirs(root) for e in os.scandir(d) if e.is_dir()})


def remove_cgroup_root(root):
    for d in cgroup_dirs(root):
        for e in os.scandir(d):
            if e.is_dir():
                try:
                    os.rmdir(e.path)
                except OSError as ex:
                    log(f"cannot remove cgroup {e.path}: {ex}")
        try:
            os.rmdir(d)
        except OSError as ex:
            log(f"cannot remove cgroup {d}: {ex}")


def wait_gone(procs, t0, what, timeout=300):
    w = GoneWatcher(procs)
    while w.poll():
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"{what}: {len(w.remaining)} processes still alive after {timeout} s")
        time.sleep(0.001)
    return time.perf_counter() - t0


def ipc_stop_all(sock_path, names, connections):
    """Sends `stop` for every name over `connections` concurrent connections (each sends its share one by one)."""
    shares = [names[i::connections] for i in range(connections)]
    socks = []
    for _ in shares:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(sock_path)
        socks.append(c)
    failures = []

    def run(c, share):
        f = c.makefile("rb")
        for name in share:
            c.sendall(json.dumps({"command": "stop", "service": name}).encode() + b"\n")
            line = f.readline()
            if b'"success"' not in line:
                failures.append(line[:200])

    threads = [threading.Thread(target=run, args=(c, share)) for c, share in zip(socks, shares)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for c in socks:
        c.close()
    if failures:
        raise RuntimeError(f"{len(failures)} stop requests failed, e.g. {failures[0]!r}")
    return elapsed


def gitproc_stop_run(ctx, n, how, run):
    """One GitProc daemon with n sleep services, stopped all at once by `how`; returns seconds and leftovers."""
    root = f"gitproc-bench-stop-{os.getpid()}-{how}-{n}-{run}"
    sleep = ["/bin/sleep", "100000"]
    services = [Service(f"s{i:04d}", sleep) for i in range(n)]
    keep = [Service("keep", ["/bin/sleep", "100001"])] if how == "commit" else []
    g = live(GitProc(os.path.join(ctx.work, f"stop-gitproc-{how}-{n}-{run}"), ctx.gitproc,
                     config={"ResourceControl": {"CgroupRoot": root}}))
    try:
        g.write_units(services + keep)
        g.commit()
        g.start()
        wait_children(g, n + len(keep), time.perf_counter(), timeout=300)
        time.sleep(1)
        procs = {pid: start_ticks(pid) for pid in g._seen_children if (cmdline(pid) or [b"", b""])[1:2] == [b"100000"]}
        if len(procs) != n:
            raise RuntimeError(f"expected {n} services, found {len(procs)}")
        if how == "sigterm":
            t0 = time.perf_counter()
            os.kill(g.pid, signal.SIGTERM)
            g.proc.wait(timeout=600)
            elapsed = time.perf_counter() - t0
        elif how == "commit":
            for svc in services:
                os.unlink(os.path.join(g.repo, svc.name + ".service"))
            g.commit(f"remove {n} services")
            t0 = time.perf_counter()
            wait_gone(procs, t0, "GitProc commit")
            while set(cgroup_children(root)) - {"keep"}:
                if time.perf_counter() - t0 > 300:
                    raise RuntimeError("GitProc commit: service cgroups not removed within 300 s")
                time.sleep(0.001)
            elapsed = time.perf_counter() - t0
        else:
            elapsed = ipc_stop_all(g.socket, [svc.name for svc in services], min(ctx.stop_connections, n))
        left = GoneWatcher(procs).poll()
        done(g)
        cgroups_left = [c for c in cgroup_children(root) if c != "keep"]
        return elapsed, left, len(cgroups_left)
    finally:
        done(g)
        remove_cgroup_root(root)
        remove(g.work)


def scandir_stop_run(ctx, cls, n, how, run):
    """One runit or s6 scan directory with n sleep services, stopped all at once by `how`; returns seconds and leftovers."""
    p = live(cls(os.path.join(ctx.work, f"stop-{cls.name}-{how}-{n}-{run}"), [Service(f"s{i:04d}", ["/bin/sleep", "100000"]) for i in range(n)]))
    try:
        p.start()
        deadline = time.time() + 300
        while True:
            procs = p.tree()
            sleeps = {pid: t for pid, t in procs.items() if sleep_match(cmdline(pid) or [b""])}
            if len(sleeps) >= n:
                break
            if time.time() > deadline:
                raise RuntimeError(f"{cls.name}: only {len(sleeps)} of {n} services after 300 s")
            time.sleep(0.2)
        time.sleep(1)
        procs = p.tree()
        t0 = time.perf_counter()
        if how == "scanner":
            # The supervisor tree's own stop-everything-and-exit, as GitProc's SIGTERM: done when every process is gone.
            p.shutdown()
            p.wait_scanners(600)
            elapsed = wait_gone(procs, t0, cls.name)
        else:
            # Every service told to go down at once, the supervisors staying: until every service process is gone.
            if cls is Runit:
                # One sv for all (without -w: sv -w re-checks only every 420 ms).
                subprocess.run(["sv", "down", *p.dirs], check=True, stdout=subprocess.DEVNULL)
            else:
                # "d" into each service's control FIFO: what s6-svc -d writes, without a process per service.
                for d in p.dirs:
                    fd = os.open(os.path.join(d, "supervise", "control"), os.O_WRONLY | os.O_NONBLOCK)
                    os.write(fd, b"d")
                    os.close(fd)
            elapsed = wait_gone(sleeps, t0, cls.name)
        left = GoneWatcher(sleeps).poll()
        return elapsed, left, 0
    finally:
        done(p)
        remove(p.work)


def scenario_stop(ctx):
    variants = [("GitProc: daemon SIGTERM", lambda n, r: gitproc_stop_run(ctx, n, "sigterm", r)),
                ("GitProc: commit removing them", lambda n, r: gitproc_stop_run(ctx, n, "commit", r)),
                (f"GitProc: `stop` each over IPC ({ctx.stop_connections} connections)", lambda n, r: gitproc_stop_run(ctx, n, "ipc", r))]
    if ctx.runit:
        variants += [("runit: SIGHUP to runsvdir", lambda n, r: scandir_stop_run(ctx, Runit, n, "scanner", r)),
                     ("runit: `sv down` on all", lambda n, r: scandir_stop_run(ctx, Runit, n, "down", r))]
    if ctx.s6:
        variants += [("s6: `s6-svscanctl -t`", lambda n, r: scandir_stop_run(ctx, S6, n, "scanner", r)),
                     ("s6: `s6-svc -d` on each", lambda n, r: scandir_stop_run(ctx, S6, n, "down", r))]
    if ctx.stop_only:
        variants = [(label, fn) for label, fn in variants if any(w in label for w in ctx.stop_only.split(","))]
    out = {}
    for label, fn in variants:
        for n in ctx.stop_sizes:
            times, left, cgroups_left = [], 0, 0
            try:
                for r in range(ctx.stop_runs):
                    t, l, c = fn(n, r)
                    times.append(t)
                    left += l
                    cgroups_left += c
            except Exception as ex:  # noqa: BLE001 - one failed size must not lose the others
                reason = repr(ex)[:300]
                log(f"  {label}, {n} services failed: {reason}")
                out.setdefault(label, {})[str(n)] = {"error": reason}
                stop_all()
                continue
            res = summary(times, "s")
            res["processes_left"] = left
            res["cgroups_left"] = cgroups_left
            out.setdefault(label, {})[str(n)] = res
            log(f"  {label}, {n} services: median {res['median']:.2f} s, processes left {left}, cgroups left {cgroups_left}")
    return out


# ---------------------------------------------------------------- machine

def machine(ctx):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])

    def ver(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[-1]
        except Exception:  # noqa: BLE001
            return None

    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1024 ** 2, 1), "kernel": platform.release(),
            "dotnet": ver(["dotnet", "--version"]), "supervisord": ver(["supervisord", "--version"]) if ctx.supervisord else None,
            "pm2": pm2_version() if ctx.pm2 else None, "node": ver(["node", "--version"]) if ctx.pm2 else None,
            "runit": ver(["dpkg-query", "-W", "-f", "${Version}\n", "runit"]) if ctx.runit else None,
            "s6": ver(["dpkg-query", "-W", "-f", "${Version}\n", "s6"]) if ctx.s6 else None,
            "python": platform.python_version(), "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
            "cgroup_mounts": [" ".join(line.split()[1:4]) for line in open("/proc/mounts") if line.split()[2] in ("cgroup", "cgroup2")],
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def pm2_version():
    # Not `pm2 --version`: that starts a God daemon in ~/.pm2 which would outlive the run.
    try:
        root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=30).stdout.strip()
        with open(os.path.join(root, "pm2", "package.json")) as f:
            return json.load(f)["version"]
    except Exception:  # noqa: BLE001
        return None


SCENARIOS = {"restart": scenario_restart, "many": scenario_many, "idle": scenario_idle, "logs": scenario_logs,
             "crash": scenario_crash, "health": scenario_health, "stop": scenario_stop}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gitproc", required=True)
    ap.add_argument("--gitproc-jit", help="a framework-dependent build, measured beside --gitproc for idle cost and status")
    ap.add_argument("--gitproc-label", default="NativeAOT", help="what --gitproc is, for the tables")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default=",".join(SCENARIOS))
    ap.add_argument("--no-supervisord", action="store_true")
    ap.add_argument("--no-pm2", action="store_true")
    ap.add_argument("--no-runit", action="store_true")
    ap.add_argument("--no-s6", action="store_true")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--many", type=int, default=500)
    ap.add_argument("--many-runs", type=int, default=3)
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--settle", type=float, default=5)
    ap.add_argument("--cli-runs", type=int, default=30)
    ap.add_argument("--rps-requests", type=int, default=50000)
    ap.add_argument("--log-lines", type=int, default=5_000_000)
    ap.add_argument("--log-runs", type=int, default=3)
    ap.add_argument("--health-services", type=int, default=200)
    ap.add_argument("--stop-sizes", default="200,1000,2000")
    ap.add_argument("--stop-runs", type=int, default=3)
    ap.add_argument("--stop-connections", type=int, default=100)
    ap.add_argument("--stop-only", default="", help="comma-separated parts of the stop variants' labels to run, e.g. runit,s6")
    ap.add_argument("--gitproc-config", default="{}",
                    help='JSON merged into every GitProc daemon\'s "GitProc" section, e.g. {"ResourceControl": {"Enabled": false}}')
    ctx = ap.parse_args()
    EXTRA_CONFIG.update(json.loads(ctx.gitproc_config))
    ctx.supervisord = not ctx.no_supervisord and have("supervisord")
    ctx.pm2 = not ctx.no_pm2 and have("pm2")
    ctx.runit = not ctx.no_runit and have("runsvdir") and have("sv")
    ctx.s6 = not ctx.no_s6 and have("s6-svscan") and have("s6-svscanctl")
    ctx.stop_sizes = [int(x) for x in ctx.stop_sizes.split(",")]
    ctx.work = tempfile.mkdtemp(prefix="gitproc-bench-")
    atexit.register(lambda: (stop_all(), remove(ctx.work)))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(130))

    RESULTS["machine"] = machine(ctx)
    RESULTS["gitproc_config"] = EXTRA_CONFIG
    RESULTS["skipped_peers"] = {k: "not installed" for k, on in (("supervisord", ctx.supervisord), ("PM2", ctx.pm2),
                                                                 ("runit", ctx.runit), ("s6", ctx.s6)) if not on}
    if os.path.exists(ctx.out):
        with open(ctx.out) as f:
            RESULTS.update({k: v for k, v in json.load(f).items() if k not in RESULTS})
    for name in ctx.only.split(","):
        log(f"scenario {name}")
        t0 = time.time()
        try:
            RESULTS[name] = SCENARIOS[name](ctx)
        except Exception as ex:  # noqa: BLE001 - one failed scenario must not lose the others
            log(f"scenario {name} failed: {ex!r}")
            import traceback; traceback.print_exc()
            RESULTS[name] = {"error": repr(ex)}
            stop_all()
        RESULTS[name + "_duration_s"] = round(time.time() - t0, 1)
        RESULTS[name + "_loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        with open(ctx.out, "w") as f:
            json.dump(RESULTS, f, indent=1)
        log(f"scenario {name} done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
