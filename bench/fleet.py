#!/usr/bin/python3
"""Fleet benchmark (issue #14): N GitProc daemons on this machine follow one private HTTPS remote.

The server is nginx (Debian nginx-light) with TLS from a CA made here and basic authentication (one user per host, so
the access log tells the hosts apart), in front of `git http-backend` behind fcgiwrap, on 127.0.0.1 at a free port, as
GitProc.Core.Tests/TestSupport/GitServers.cs starts it for the tests. Each daemon has its own clone, state, socket, log
directory, credentials file and cgroup root, and follows the remote with one FetchInterval. For each interval:

  1. a fresh fleet starts and runs the remote's units (a probe unit and --other-units idle `sleep` units);
  2. idle cost: after --settle seconds, each daemon's CPU and VmRSS over --idle-seconds (a whole number of intervals,
     so every daemon fetches the same number of times);
  3. --pushes times: wait a random part of an interval (so pushes fall at every point of the fleet's fetch schedule),
     push a commit changing the probe unit only, and time until every host runs it.

How "runs it" is observed, without asking the daemons anything (50 sockets polled often would perturb the CPU figures
and the timing): the probe's ExecStart is `/bin/sh mark.sh vK`, which appends "vK <time>" to the file `marks` beside
the host's clone (a service's working directory defaults to the daemon's repository) and then execs `sleep`. The
harness stats those 50 files every 50 ms. A host's convergence time is that timestamp minus the moment `git push`
returned; the push goes straight into the server's bare repository (file path), so the access log holds fetches only.

Server load comes from nginx's access log ($msec, $remote_user, status, request): requests per minute, per 10 s and
per 1 s bucket, and each host's fetches (its authenticated GET of info/refs), from which its phase in the interval and
the time from its fetch to its probe running follow.

Idle cost per daemon: utime+stime of the daemon process (/proc/PID/stat, 10 ms ticks; all its threads), the same plus
its reaped children (cutime+cstime: the `git fetch` processes it ran), and, as root with a cgroup v1 cpuacct hierarchy,
the whole fleet's nanosecond total from a cpuacct group the daemons are started in (the daemons and their git
processes; the services run in cgroups of their own).

Needs root (cgroups, nginx) and Debian's nginx-light, fcgiwrap, git and openssl. Everything lives in one temporary
directory; every daemon, nginx and fcgiwrap is stopped by its pid, and every cgroup made here removed, also on failure
and Ctrl-C.

    python3 bench/fleet.py --gitproc PATH/TO/gitproc [--daemons 50] [--intervals 10,60] [--pushes 5]
                           [--idle-seconds 60] [--settle 35] [--other-units 2] [--out bench/results/fleet.json]
    python3 bench/fleet.py --gitproc PATH --quick          # 5 daemons, 5 s interval, 2 pushes: a smoke run
"""

import argparse
import datetime
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import pct  # noqa: E402
from procwatch import CLK_TCK, rss_kib, stat_rest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND = "/usr/lib/git-core/git-http-backend"
CPUACCT = "/sys/fs/cgroup/cpuacct"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@gitproc.invalid",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@gitproc.invalid"}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def spread(values, digits=3):
    """p50, p95, max, min, mean and n of a list (None when empty)."""
    if not values:
        return None
    return {"p50": round(statistics.median(values), digits), "p95": round(pct(values, 95), digits),
            "mean": round(statistics.mean(values), digits),
            "max": round(max(values), digits), "min": round(min(values), digits), "n": len(values)}


def run(*cmd, cwd=None, env=None, stdin=None):
    result = subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    """(utime+stime, utime+stime+cutime+cstime) of pid in ms, or None when it is gone."""
    rest = stat_rest(pid)
    if rest is None:
        return None
    own = int(rest[11]) + int(rest[12])
    return own * 1000.0 / CLK_TCK, (own + int(rest[13]) + int(rest[14])) * 1000.0 / CLK_TCK


# ---------------------------------------------------------------- cleanup

class Cleanup:
    """Everything the run started or made, undone in reverse order whatever happens."""

    def __init__(self):
        self.processes = []  # (label, Popen, kill the process group too)
        self.cgroups = []  # cgroup directories (any hierarchy), removed deepest first after killing what is left in them
        self.dirs = []

    def process(self, label, proc, group=False):
        self.processes.append((label, proc, group))
        return proc

    def stop_processes(self, procs, timeout=90):
        """SIGTERM to each (by pid), then wait for all together; SIGKILL what is left after the timeout."""
        for label, proc, group in procs:
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + timeout
        for label, proc, group in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                log(f"{label} (pid {proc.pid}) did not stop within {timeout} s: killed")
                proc.kill()
                proc.wait()
            if group:
                # fcgiwrap's preforked children: its own process group (started in a session of its own).
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        for entry in procs:
            if entry in self.processes:
                self.processes.remove(entry)

    def all(self):
        if self.processes:
            self.stop_processes(list(reversed(self.processes)))
        for path in sorted(self.cgroups, key=len, reverse=True):
            remove_cgroup_tree(path)
        self.cgroups.clear()
        for d in reversed(self.dirs):
            shutil.rmtree(d, ignore_errors=True)
        self.dirs.clear()


def remove_cgroup_tree(path):
    """Removes a cgroup directory and its children, killing any process left in them (a daemon that had to be killed)."""
    if not os.path.isdir(path):
        return
    for current, subdirs, _ in os.walk(path, topdown=False):
        for attempt in range(50):
            try:
                with open(os.path.join(current, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                os.rmdir(current)
                break
            except FileNotFoundError:
                break
            except OSError as ex:
                if attempt == 49:
                    log(f"cannot remove cgroup {current}: {ex}")
                time.sleep(0.1)


# ---------------------------------------------------------------- the server

class Server:
    """nginx + fcgiwrap + git http-backend over TLS with basic auth, one user per host."""

    def __init__(self, work, users, cleanup):
        self.dir = os.path.join(work, "server")
        os.makedirs(self.dir)
        self.bare = os.path.join(self.dir, "srv", "units.git")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}/units.git"
        self.ca = os.path.join(self.dir, "ca.crt")
        self.access_log = os.path.join(self.dir, "access.log")
        self.passwords = {u: secrets.token_hex(16) for u in users}
        d = self.dir
        run("git", "init", "-q", "--bare", "-b", "main", self.bare)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
            "-subj", "/CN=GitProc fleet bench CA", cwd=d)
        run("openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "1", "-extfile", "san.ext", cwd=d)
        # One openssl for all users: -stdin hashes one password a line.
        hashes = run("openssl", "passwd", "-apr1", "-stdin", stdin="\n".join(self.passwords.values()) + "\n").split()
        with open(os.path.join(d, "htpasswd"), "w") as f:
            f.writelines(f"{u}:{h}\n" for u, h in zip(self.passwords, hashes))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
master_process off;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
  log_format fleet '$msec $remote_user $status $request_method $request_uri $bytes_sent $request_time';
  access_log {d}/access.log fleet;
  client_body_temp_path {d}/body; fastcgi_temp_path {d}/fcgi; proxy_temp_path {d}/proxy;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {d}/server.crt;
    ssl_certificate_key {d}/server.key;
    auth_basic "git";
    auth_basic_user_file {d}/htpasswd;
    location / {{
      fastcgi_pass unix:{d}/fcgiwrap.sock;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME {BACKEND};
      fastcgi_param GIT_PROJECT_ROOT {d}/srv;
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO $uri;
      fastcgi_param REMOTE_USER $remote_user;
    }}
  }}
}}
""")
        out = open(os.path.join(d, "server.out"), "wb")
        # fcgiwrap preforks 4 children (one runs git http-backend at a time), in a session of its own so they are
        # stopped with it.
        cleanup.process("fcgiwrap", subprocess.Popen(
            ["fcgiwrap", "-c", "4", "-s", f"unix:{d}/fcgiwrap.sock"], cwd=d, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True), group=True)
        self.nginx = cleanup.process("nginx", subprocess.Popen(
            ["nginx", "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")], cwd=d,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.nginx.poll() is not None:
                    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{self.port}: "
                                       + open(os.path.join(d, "error.log")).read())
                time.sleep(0.05)

    def requests(self, since, until):
        """The access log's requests in [since, until): (time, user, status, method, uri)."""
        out = []
        with open(self.access_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 5:
                    continue
                t = float(parts[0])
                if since <= t < until:
                    out.append((t, parts[1], int(parts[2]), parts[3], parts[4]))
        return out


def fetch_times(requests):
    """Each host's fetches: its authenticated GET of info/refs (one a fetch, whether anything is new or not)."""
    per_host = {}
    for t, user, status, method, uri in requests:
        if method == "GET" and status == 200 and "/info/refs" in uri:
            per_host.setdefault(user, []).append(t)
    return per_host


def load_profile(requests, since, until):
    """Requests per minute, and per 10 s and per 1 s bucket: whether the fleet's fetches are spread or come in bursts."""
    seconds = until - since
    per10 = [0] * max(1, int(seconds // 10))
    per1 = [0] * max(1, int(seconds))
    for t, *_ in requests:
        i = int(t - since)
        if i < len(per1):
            per1[i] += 1
        if i // 10 < len(per10):
            per10[i // 10] += 1
    fetches = sum(len(v) for v in fetch_times(requests).values())
    return {
        "window_s": round(seconds, 1),
        "requests": len(requests),
        "requests_per_min": round(len(requests) / seconds * 60, 1),
        "fetches_per_min": round(fetches / seconds * 60, 1),
        "unauthenticated_401": sum(1 for r in requests if r[2] == 401),
        "per_10s": per10,
        "per_10s_mean": round(statistics.mean(per10), 1),
        "per_10s_min": min(per10),
        "per_10s_max": max(per10),
        "per_1s_mean": round(statistics.mean(per1), 2),
        "per_1s_p95": round(pct(per1, 95), 1),
        "per_1s_max": max(per1),
        "per_1s_zero": sum(1 for c in per1 if c == 0),
    }


# ---------------------------------------------------------------- the fleet

class Fleet:
    """N daemons following the server with one FetchInterval, each in its own directory under work/fleet-I."""

    def __init__(self, args, work, server, interval, cleanup, label):
        self.args = args
        self.server = server
        self.interval = interval
        self.cleanup = cleanup
        self.dir = os.path.join(work, f"fleet-{label}")
        os.makedirs(self.dir)
        self.hosts = [f"h{i:02d}" for i in range(args.daemons)]
        self.procs = {}
        self.offsets = {h: 0 for h in self.hosts}
        self.marks = {h: {} for h in self.hosts}
        self.group = None
        if os.path.exists(os.path.join(CPUACCT, "cpuacct.usage")):
            self.group = os.path.join(CPUACCT, f"gitproc-fleet-{os.getpid()}-{label}")
            os.mkdir(self.group)
            cleanup.cgroups.append(self.group)

    def host_dir(self, host):
        return os.path.join(self.dir, host)

    def start(self):
        interval = str(datetime.timedelta(seconds=self.interval))
        for host in self.hosts:
            d = self.host_dir(host)
            os.makedirs(d)
            credentials = os.path.join(d, "git-credentials")
            with open(os.open(credentials, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(f"username={host}\npassword={self.server.passwords[host]}\n")
            cgroup_root = f"gitproc-fleet-{os.getpid()}-{os.path.basename(self.dir)}-{host}"
            for hierarchy in os.listdir("/sys/fs/cgroup"):
                self.cleanup.cgroups.append(os.path.join("/sys/fs/cgroup", hierarchy, cgroup_root))
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"Git": {"RemoteUrl": self.server.url, "CredentialsFile": credentials,
                                   "SslCaFile": self.server.ca, "FetchInterval": interval},
                           "ResourceControl": {"CgroupRoot": cgroup_root}}, f)
            run(self.args.gitproc, "init", "--repo", os.path.join(d, "repo"))
            # The shell joins the cpuacct group, then becomes the daemon (same pid): counted from its first instruction.
            wrapper = ["/bin/sh", "-c", f'echo $$ > {self.group}/cgroup.procs && exec "$@"', "sh"] if self.group else []
            out = open(os.path.join(d, "daemon.out"), "wb")
            proc = subprocess.Popen(
                wrapper + [self.args.gitproc, "daemon", "--repo", os.path.join(d, "repo"),
                           "--state", os.path.join(d, "state.json"), "--log-dir", os.path.join(d, "logs"),
                           "--socket", os.path.join(d, "gitproc.sock"), "--config", os.path.join(d, "config.json")],
                cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            self.procs[host] = self.cleanup.process(f"daemon {host}", proc)
            time.sleep(self.args.start_spacing)

    def stop(self):
        entries = [e for e in self.cleanup.processes if e[1] in self.procs.values()]
        t0 = time.time()
        self.cleanup.stop_processes(entries)
        log(f"  {len(entries)} daemons stopped in {time.time() - t0:.1f} s")
        failed = [h for h in self.hosts if self.procs[h].returncode not in (0, None)]
        for host in failed:
            tail = open(os.path.join(self.host_dir(host), "daemon.out"), errors="replace").read()[-1000:]
            log(f"  daemon {host} exited with {self.procs[host].returncode}; its last output:\n{tail}")
        # Its clones and logs go now (deleting 50 clones takes seconds), not in the middle of the next measurement.
        shutil.rmtree(self.dir, ignore_errors=True)

    def check_alive(self):
        dead = [h for h, p in self.procs.items() if p.poll() is not None]
        if dead:
            tail = open(os.path.join(self.host_dir(dead[0]), "daemon.out"), errors="replace").read()[-2000:]
            raise RuntimeError(f"daemons {', '.join(dead)} exited; {dead[0]}'s last output:\n{tail}")

    def read_marks(self):
        """New lines of each host's marks file: version -> time the probe of that version started (first start)."""
        for host in self.hosts:
            path = os.path.join(self.host_dir(host), "marks")
            try:
                size = os.stat(path).st_size
            except FileNotFoundError:
                continue
            if size <= self.offsets[host]:
                continue
            with open(path) as f:
                f.seek(self.offsets[host])
                data = f.read()
            complete = data[:data.rfind("\n") + 1]
            self.offsets[host] += len(complete.encode())
            for line in complete.splitlines():
                version, stamp = line.split()
                self.marks[host].setdefault(version, float(stamp))

    def wait_for(self, version, timeout):
        """Polls the marks files until every host ran `version` or the timeout; returns the hosts that did not."""
        deadline = time.time() + timeout
        while True:
            self.read_marks()
            missing = [h for h in self.hosts if version not in self.marks[h]]
            if not missing or time.time() > deadline:
                return missing
            self.check_alive()
            time.sleep(self.args.poll)

    def cpu(self):
        """(fleet cpuacct ns or None, {host: (own ms, with children ms)})."""
        total = None
        if self.group:
            with open(os.path.join(self.group, "cpuacct.usage")) as f:
                total = int(f.read())
        return total, {h: cpu_ticks(p.pid) for h, p in self.procs.items()}


# ---------------------------------------------------------------- the units pushed

class Pusher:
    """A clone of the server's repository that commits and pushes (through the file system, not nginx)."""

    def __init__(self, work, server, mark_script, other_units):
        self.repo = os.path.join(work, "pusher")
        self.mark_script = mark_script
        self.env = dict(os.environ, **GIT_IDENTITY)
        run("git", "clone", "-q", server.bare, self.repo, env=self.env)
        run("git", "-C", self.repo, "checkout", "-q", "-B", "main", env=self.env)
        for i in range(other_units):
            with open(os.path.join(self.repo, f"idle{i}.service"), "w") as f:
                f.write(f"[Unit]\nDescription=fleet bench idle service\n\n[Service]\nExecStart=/bin/sleep 100000.{i}\n"
                        "Restart=always\n")

    def push(self, version):
        """Commits the probe unit at `version` and pushes it; returns the time `git push` returned."""
        with open(os.path.join(self.repo, "probe.service"), "w") as f:
            f.write(f"[Unit]\nDescription=fleet bench probe, {version}\n\n[Service]\n"
                    f"ExecStart=/bin/sh {self.mark_script} {version}\nRestart=always\n")
        run("git", "-C", self.repo, "add", "-A", env=self.env)
        run("git", "-C", self.repo, "commit", "-q", "--no-verify", "-m", f"probe {version}", env=self.env)
        run("git", "-C", self.repo, "push", "-q", "origin", "main", env=self.env)
        return time.time()


# ---------------------------------------------------------------- one interval

def measure_interval(args, work, server, pusher, interval, cleanup, first_version):
    result = {"fetch_interval_s": interval, "daemons": args.daemons, "load_start": loadavg()}
    log(f"FetchInterval {interval} s: starting {args.daemons} daemons (load {loadavg()})")
    fleet = Fleet(args, work, server, interval, cleanup, f"{interval}s")
    version = f"v{first_version}"
    pusher.push(version)
    t0 = time.time()
    fleet.start()
    missing = fleet.wait_for(version, timeout=120 + 2 * interval)
    if missing:
        raise RuntimeError(f"{len(missing)} daemons never ran the probe: {', '.join(missing[:10])}")
    result["fleet_start_s"] = round(time.time() - t0, 1)
    log(f"  all running {version} {result['fleet_start_s']} s after the first daemon started")

    try:
        # Idle: no push; every daemon only fetches (finding nothing new) at its phase.
        time.sleep(args.settle)
        window = max(interval, round(args.idle_seconds / interval) * interval)
        log(f"  idle window {window} s (load {loadavg()})")
        fleet.check_alive()
        ns0, ticks0 = fleet.cpu()
        w0 = time.time()
        time.sleep(window)
        ns1, ticks1 = fleet.cpu()
        w1 = time.time()
        rss = [rss_kib(p.pid) / 1024 for p in fleet.procs.values()]
        own = [(ticks1[h][0] - ticks0[h][0]) for h in fleet.hosts]
        with_git = [(ticks1[h][1] - ticks0[h][1]) for h in fleet.hosts]
        per_min = 60 / (w1 - w0)
        result["idle"] = {
            "window_s": round(w1 - w0, 1),
            "load": loadavg(),
            "rss_mib": spread(rss, 1),
            "rss_mib_total": round(sum(rss), 1),
            "cpu_ms_per_min_daemon": spread([v * per_min for v in own], 1),
            "cpu_ms_per_min_daemon_and_git": spread([v * per_min for v in with_git], 1),
            "cpu_ms_per_min_mean_cpuacct": round((ns1 - ns0) / 1e6 / len(fleet.hosts) * per_min, 1) if ns0 is not None else None,
            "cpu_percent_of_core_fleet_cpuacct": round((ns1 - ns0) / 1e9 / (w1 - w0) * 100, 2) if ns0 is not None else None,
        }
        idle_requests = server.requests(w0, w1)
        result["idle"]["server"] = load_profile(idle_requests, w0, w1)
        fetches = fetch_times(idle_requests)
        gaps = [b - a for ts in fetches.values() for a, b in zip(ts, ts[1:])]
        result["idle"]["fetch_gap_s"] = spread(gaps)
        phases = sorted(statistics.median([t % interval for t in ts]) for ts in fetches.values())
        result["idle"]["hosts_fetching"] = len(fetches)
        result["idle"]["phases_s"] = [round(p, 2) for p in phases]
        log(f"  idle: RSS median {result['idle']['rss_mib']['p50']} MiB, daemon CPU mean "
            f"{result['idle']['cpu_ms_per_min_daemon']['mean']} ms/min (with git "
            f"{result['idle']['cpu_ms_per_min_daemon_and_git']['mean']}), cpuacct mean "
            f"{result['idle']['cpu_ms_per_min_mean_cpuacct']} ms/min; server "
            f"{result['idle']['server']['requests_per_min']} requests/min, per 10 s "
            f"{result['idle']['server']['per_10s_min']}–{result['idle']['server']['per_10s_max']}")

        # Pushes, each at a random point of the fetch schedule.
        pushes = []
        all_apply = []
        p0 = time.time()
        for k in range(args.pushes):
            time.sleep(random.uniform(0, interval))
            version = f"v{first_version + 1 + k}"
            t_push = pusher.push(version)
            missing = fleet.wait_for(version, timeout=2 * interval + 60)
            t_end = time.time()
            latencies = {h: fleet.marks[h][version] - t_push for h in fleet.hosts if version in fleet.marks[h]}
            # The fetch that brought the push to each host: its last one before its probe ran (nginx logs a request
            # when it ends, so a fetch under way while `git push` returned is logged a moment before the push time).
            fetched = fetch_times(server.requests(t_push - interval, t_end + 1))
            fetch_wait, apply = [], []
            for h in latencies:
                before = [t for t in fetched.get(h, []) if t <= fleet.marks[h][version]]
                if before:
                    fetch_wait.append(before[-1] - t_push)
                    apply.append(fleet.marks[h][version] - before[-1])
            values = sorted(latencies.values())
            all_apply += apply
            push = {"version": version, "latency_s": spread(values), "missing": missing,
                    "over_target": sum(1 for v in values if v > interval + 2) + len(missing),
                    "push_to_fetch_s": spread(fetch_wait), "fetch_to_running_s": spread(apply),
                    "latencies_s": [round(v, 3) for v in values], "load": loadavg()}
            pushes.append(push)
            log(f"  push {version}: every host in {push['latency_s']['max']} s (p50 {push['latency_s']['p50']}, "
                f"p95 {push['latency_s']['p95']}); fetch → running p50 {push['fetch_to_running_s']['p50'] if apply else '–'} s, "
                f"max {push['fetch_to_running_s']['max'] if apply else '–'} s; missing {len(missing)}; load {loadavg()}")
        p1 = time.time()
        all_latencies = [v for p in pushes for v in p["latencies_s"]]
        result["pushes"] = pushes
        result["convergence_s"] = spread(all_latencies)
        result["per_push_max_s"] = spread([p["latency_s"]["max"] for p in pushes if p["latency_s"]])
        result["fetch_to_running_s"] = spread(all_apply)
        result["target_s"] = interval + 2
        result["hosts_over_target"] = sum(p["over_target"] for p in pushes)
        result["push_window_server"] = load_profile(server.requests(p0, p1), p0, p1)
        # Whether each host kept to one fetch per interval over the whole measurement (the idle window of a 60 s
        # interval holds a single fetch per host).
        fetches = fetch_times(server.requests(w0, p1))
        result["fetch_gap_s"] = spread([b - a for ts in fetches.values() for a, b in zip(ts, ts[1:])])
        result["load_end"] = loadavg()
        return result, first_version + 1 + args.pushes
    finally:
        log("  stopping the fleet")
        fleet.stop()


def machine():
    """bench.py's description of the machine (no peers), with the server's and git's versions."""
    described = bench.machine(types.SimpleNamespace(supervisord=False, pm2=False, runit=False, s6=False))
    described["nginx"] = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    described["git"] = run("git", "--version").strip()
    return described


def render(results):
    lines = ["| FetchInterval | daemons | pushes | convergence p50 / p95 / max, s | per-push max (min–max), s "
             "| fetch → running p50 / max, s | a host's fetches apart, s (min–max) | hosts over interval + 2 s | load |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c, m, a, g = r["convergence_s"], r["per_push_max_s"], r["fetch_to_running_s"], r["fetch_gap_s"]
        lines.append(f"| {r['fetch_interval_s']} s | {r['daemons']} | {len(r['pushes'])} | {c['p50']} / {c['p95']} / "
                     f"{c['max']} | {m['min']}–{m['max']} | {str(a['p50']) + ' / ' + str(a['max']) if a else '–'} | "
                     f"{g['p50']} ({g['min']}–{g['max']}) | {r['hosts_over_target']} of "
                     f"{c['n'] + sum(len(p['missing']) for p in r['pushes'])} | {r['load_start']} → {r['load_end']} |")
    lines += ["", "| FetchInterval | requests/min (fetches/min) | per 10 s: min–max (mean) | per 1 s: mean / p95 / max "
              "| daemon RSS p50 / max, MiB | daemon CPU ms/min mean / max | with its git fetches, ms/min mean / max "
              "| fleet cpuacct, % of a core |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        i, s = r["idle"], r["idle"]["server"]
        lines.append(f"| {r['fetch_interval_s']} s | {s['requests_per_min']} ({s['fetches_per_min']}) | "
                     f"{s['per_10s_min']}–{s['per_10s_max']} ({s['per_10s_mean']}) | {s['per_1s_mean']} / "
                     f"{s['per_1s_p95']} / {s['per_1s_max']} | {i['rss_mib']['p50']} / {i['rss_mib']['max']} | "
                     f"{i['cpu_ms_per_min_daemon']['mean']} / {i['cpu_ms_per_min_daemon']['max']} | "
                     f"{i['cpu_ms_per_min_daemon_and_git']['mean']} / {i['cpu_ms_per_min_daemon_and_git']['max']} | "
                     f"{i['cpu_percent_of_core_fleet_cpuacct']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gitproc", required=True, help="the gitproc executable (bench/fleet.sh passes the NativeAOT publish)")
    parser.add_argument("--daemons", type=int, default=50)
    parser.add_argument("--intervals", default="10,60", help="FetchInterval values in seconds, comma-separated")
    parser.add_argument("--pushes", type=int, default=5, help="pushes per interval")
    parser.add_argument("--idle-seconds", type=float, default=60, help="idle window (rounded to whole intervals)")
    parser.add_argument("--settle", type=float, default=35,
                        help="seconds after the fleet runs before the idle window (past the 30 s verify window)")
    parser.add_argument("--other-units", type=int, default=2, help="idle sleep units beside the probe on every host")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between two looks at the marks files")
    parser.add_argument("--start-spacing", type=float, default=0.05, help="seconds between two daemon starts")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 daemons, 5 s interval, 2 pushes, short windows")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "fleet.json"))
    args = parser.parse_args()
    if args.quick:
        args.daemons, args.intervals, args.pushes, args.idle_seconds, args.settle = 5, "5", 2, 10, 3
    if os.geteuid() != 0:
        raise SystemExit("fleet.py needs root: cgroups for the daemons, and nginx (its workers run as root here)")
    for tool, package in (("nginx", "nginx-light"), ("fcgiwrap", "fcgiwrap"), ("openssl", "openssl"), ("git", "git")):
        if shutil.which(tool) is None:
            raise SystemExit(f"needs {tool} (Debian package {package})")
    if not os.path.exists(BACKEND):
        raise SystemExit(f"needs {BACKEND} (Debian package git)")
    args.gitproc = os.path.abspath(args.gitproc)
    intervals = [int(v) for v in args.intervals.split(",")]

    # Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt, so the finally below always cleans up (SIGINT explicitly:
    # a shell starts a background job with it ignored).
    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)

    cleanup = Cleanup()
    report = {"machine": machine(), "gitproc": args.gitproc, "args": vars(args), "results": []}
    log(f"{report['machine']['date']}: {report['machine']['nproc']} CPUs, kernel {report['machine']['kernel']}, "
        f"load {loadavg()}, gitproc {args.gitproc}")
    try:
        work = tempfile.mkdtemp(prefix="gitproc-fleet-")
        cleanup.dirs.append(work)
        os.chmod(work, 0o755)
        server = Server(work, [f"h{i:02d}" for i in range(args.daemons)], cleanup)
        log(f"server {server.url} (nginx pid {server.nginx.pid})")
        mark = os.path.join(work, "mark.sh")
        with open(mark, "w") as f:
            # Run in the host's clone (a service's default working directory): the marks file is beside it.
            f.write('#!/bin/sh\necho "$1 $(date +%s.%N)" >> ../marks\nexec /bin/sleep 100000\n')
        pusher = Pusher(work, server, mark, args.other_units)
        version = 0
        for interval in intervals:
            result, version = measure_interval(args, work, server, pusher, interval, cleanup, version)
            report["results"].append(result)
            os.makedirs(os.path.dirname(args.out), exist_ok=True)
            with open(args.out, "w") as f:
                json.dump(report, f, indent=1)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        raise SystemExit(130)
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        cleanup.all()
        log(f"cleaned up (load {loadavg()})")
    print()
    print(render(report["results"]))
    print(f"\nJSON: {args.out}")


if __name__ == "__main__":
    main()
