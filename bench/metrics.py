#!/usr/bin/env python3
"""Cost of the metrics endpoint and the event stream on the daemon (issue #11): idle CPU and `status` latency without
metrics, with Metrics:Listen set but nobody scraping, with a scraper every 5 s (as Prometheus would), and with that
scraper plus 10 IPC `subscribe` clients reading every event (variant "observed").

Each run starts a private daemon (its own repository, state, socket, logs and cgroup root in a temporary directory)
with N `sleep` services, lets it settle, then measures
  - the daemon's CPU over --seconds: as root, from a cpuacct cgroup of its own that the daemon is started in
    (cpuacct.usage, nanoseconds, every thread including those that ended; its services run in cgroups of their own),
    and utime+stime from /proc/PID/stat (10 ms ticks) as a cross-check and where there is no cpuacct hierarchy;
  - its resident memory (VmRSS) at the end of that window;
  - `status` latency: --requests `{"command":"status","service":"s000"}` requests, one at a time on one Unix-socket
    connection, while the scraper (if any) keeps scraping;
  - the scrapes themselves: time of a whole HTTP GET /metrics and the size of the answer;
  - with subscribers: how many events each received, and whether the daemon dropped any of them.
--churn N restarts one service (the last) every N seconds throughout, in every variant, so events flow while the CPU
and the latency are measured: without it the daemon is idle and subscribers have nothing to read.
Variants run interleaved, --rounds times each, so drift in the machine's load hits them alike. Prints a table and a
JSON line per run.

    python3 bench/metrics.py --gitproc PATH/TO/gitproc [--services 100] [--seconds 60] [--rounds 2] [--requests 2000]
                             [--subscribers 10] [--churn SECONDS] [--variants off,listening,scraped,observed]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from daemon_socket import connect_when_up
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CPUACCT = "/sys/fs/cgroup/cpuacct"


def cpuacct_group(name):
    """A cpuacct cgroup for the daemon alone (root and a cgroup v1 cpuacct hierarchy), or None."""
    if os.geteuid() != 0 or not os.path.exists(os.path.join(CPUACCT, "cpuacct.usage")):
        return None
    path = os.path.join(CPUACCT, name)
    os.mkdir(path)
    return path


def cpu_ns(group):
    with open(os.path.join(group, "cpuacct.usage")) as f:
        return int(f.read())


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Scraper(threading.Thread):
    """GETs /metrics every `interval` seconds until stopped; records each scrape's time and size."""

    def __init__(self, port, interval):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.interval = interval
        self.stop = threading.Event()
        self.times_ms = []
        self.sizes = []
        self.failures = 0

    def run(self):
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    body = response.read()
                self.times_ms.append((time.perf_counter() - t0) * 1000)
                self.sizes.append(len(body))
            except OSError:
                self.failures += 1
            self.stop.wait(self.interval)


class Subscriber(threading.Thread):
    """One IPC `subscribe` connection reading every event until stopped; counts the events and notes a drop."""

    def __init__(self, sock_path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock_path)
        self.sock.sendall(b'{"command":"subscribe"}\n')
        self.reader = self.sock.makefile("r")
        reply = json.loads(self.reader.readline())
        if reply.get("status") != "success":
            raise SystemExit(f"subscribe failed: {reply}")
        self.events = 0
        self.dropped = None

    def run(self):
        try:
            for line in self.reader:
                event = json.loads(line)
                if "type" in event:
                    self.events += 1
                else:  # the daemon's last word to a subscriber it drops
                    self.dropped = event
                    return
        except (OSError, ValueError):
            pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Churn(threading.Thread):
    """Restarts one service every `interval` seconds over a connection of its own, so there are events to stream."""

    def __init__(self, sock_path, service, interval):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(sock_path)
        self.reader = self.sock.makefile("r")
        self.request = json.dumps({"command": "restart", "service": service}).encode() + b"\n"
        self.interval = interval
        self.stop = threading.Event()
        self.restarts = 0

    def run(self):
        while not self.stop.wait(self.interval):
            self.sock.sendall(self.request)
            if json.loads(self.reader.readline()).get("status") == "success":
                self.restarts += 1
        self.sock.close()


def run_once(args, variant, round_index):
    work = tempfile.mkdtemp(prefix="gitproc-metrics-bench-")
    repo = os.path.join(work, "repo")
    sock_path = os.path.join(work, "gitproc.sock")
    port = free_port()
    config = {"ResourceControl": {"CgroupRoot": f"gitproc-mbench-{os.getpid()}-{variant}-{round_index}"}}
    if variant != "off":
        config["Metrics"] = {"Listen": f"127.0.0.1:{port}"}
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump(config, f)

    subprocess.run([args.gitproc, "init", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    for i in range(args.services):
        with open(os.path.join(repo, f"s{i:03d}.service"), "w") as f:
            f.write(f"[Service]\nExecStart=/bin/sleep 100000.{4242 + i}\n")
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@gitproc.invalid"]
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "services"], check=True)

    group = cpuacct_group(f"gitproc-mbench-daemon-{os.getpid()}-{variant}-{round_index}")
    # The shell puts itself in the group, then becomes the daemon (same pid), so the daemon is counted from its start.
    wrapper = ["/bin/sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh"] if group else []
    daemon = subprocess.Popen(
        wrapper + [args.gitproc, "daemon", "--repo", repo, "--state", os.path.join(work, "state.json"),
         "--log-dir", os.path.join(work, "logs"), "--socket", sock_path, "--config", os.path.join(work, "config.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scraper = None
    subscribers = []
    churn = None
    try:
        sock = connect_when_up(sock_path, daemon, timeout=60)
        reader = sock.makefile("r")

        def status():
            sock.sendall(b'{"command":"status","service":"s000"}\n')
            reply = json.loads(reader.readline())
            if reply.get("status") != "success":
                raise SystemExit(f"status failed: {reply}")

        # Every service running, then a settle.
        deadline = time.time() + 60
        while True:
            sock.sendall(b'{"command":"list"}\n')
            reply = json.loads(reader.readline())
            services = reply["data"]["services"]
            if len(services) == args.services and all(s["status"] == "running" for s in services):
                break
            if time.time() > deadline:
                raise SystemExit("the services did not all start")
            time.sleep(0.2)
        if variant in ("scraped", "observed"):
            scraper = Scraper(port, args.interval)
            scraper.start()
        if variant == "observed":
            subscribers = [Subscriber(sock_path) for _ in range(args.subscribers)]
            for subscriber in subscribers:
                subscriber.start()
        if args.churn > 0:
            churn = Churn(sock_path, f"s{args.services - 1:03d}", args.churn)
            churn.start()
        time.sleep(args.settle)

        ns0, ticks0, t0 = cpu_ns(group) if group else None, cpu_ticks(daemon.pid), time.perf_counter()
        time.sleep(args.seconds)
        ns1, ticks1, t1 = cpu_ns(group) if group else None, cpu_ticks(daemon.pid), time.perf_counter()
        rss = rss_kib(daemon.pid)

        for _ in range(20):
            status()
        latencies = []
        for _ in range(args.requests):
            s = time.perf_counter()
            status()
            latencies.append((time.perf_counter() - s) * 1000)
            # Spread the requests over several scrapes, as a script polling status would be.
            time.sleep(args.pause)
        sock.close()
        latencies.sort()
        wall = t1 - t0
        result = {
            "variant": variant,
            "round": round_index,
            "services": args.services,
            "seconds": round(wall, 1),
            "cpu_ms": round((ns1 - ns0) / 1e6, 1) if group else (ticks1 - ticks0) * 1000 // CLK_TCK,
            "cpu_percent": round(((ns1 - ns0) / 1e9 if group else (ticks1 - ticks0) / CLK_TCK) / wall * 100, 3),
            "cpu_source": "cpuacct" if group else "stat ticks",
            "cpu_ticks_ms": (ticks1 - ticks0) * 1000 // CLK_TCK,
            "rss_mib": round(rss / 1024, 1),
            "status_median_ms": round(statistics.median(latencies), 3),
            "status_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
            "status_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 3),
            "status_max_ms": round(latencies[-1], 3),
        }
        if scraper is not None:
            scraper.stop.set()
            scraper.join()
            result["scrapes"] = len(scraper.times_ms)
            result["scrape_failures"] = scraper.failures
            result["scrape_median_ms"] = round(statistics.median(scraper.times_ms), 2) if scraper.times_ms else None
            result["scrape_max_ms"] = round(max(scraper.times_ms), 2) if scraper.times_ms else None
            result["scrape_bytes"] = scraper.sizes[-1] if scraper.sizes else None
        if churn is not None:
            churn.stop.set()
            churn.join()
            result["churn_restarts"] = churn.restarts
        if subscribers:
            time.sleep(0.5)  # the last restart's events on their way
            result["subscribers"] = len(subscribers)
            result["events_min"] = min(s.events for s in subscribers)
            result["events_max"] = max(s.events for s in subscribers)
            result["subscribers_dropped"] = sum(1 for s in subscribers if s.dropped is not None)
        return result
    finally:
        if scraper is not None:
            scraper.stop.set()
        if churn is not None:
            churn.stop.set()
        for subscriber in subscribers:
            subscriber.close()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=120)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(work, ignore_errors=True)
        if group:
            for _ in range(50):  # the daemon's last exit may still be settling in the cgroup
                try:
                    os.rmdir(group)
                    break
                except OSError:
                    time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gitproc", required=True, help="the gitproc executable")
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60, help="the CPU window")
    parser.add_argument("--settle", type=float, default=10)
    parser.add_argument("--interval", type=float, default=5, help="seconds between scrapes")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pause", type=float, default=0.005, help="seconds between status requests")
    parser.add_argument("--subscribers", type=int, default=10, help="IPC subscribe clients in the observed variant")
    parser.add_argument("--churn", type=float, default=0, help="restart the last service every N seconds (0: never)")
    parser.add_argument("--variants", default="off,listening,scraped,observed",
                        help="which to run (off alone for a build without metrics, to compare)")
    args = parser.parse_args()
    variants = args.variants.split(",")

    results = []
    for round_index in range(args.rounds):
        for variant in variants:
            result = run_once(args, variant, round_index)
            print(json.dumps(result), flush=True)
            results.append(result)

    print()
    print("| variant | daemon CPU over %d s, ms (%% of a core) | RSS, MiB | status median / p95 / p99 / max, ms | scrape median / max, ms; bytes | events per subscriber (min–max), dropped |" % args.seconds)
    print("|---|---|---|---|---|---|")
    for variant in variants:
        runs = [r for r in results if r["variant"] == variant]
        cpu = ", ".join(f"{r['cpu_ms']} ({r['cpu_percent']} %)" for r in runs)
        rss = ", ".join(str(r["rss_mib"]) for r in runs)
        status = "; ".join(f"{r['status_median_ms']} / {r['status_p95_ms']} / {r['status_p99_ms']} / {r['status_max_ms']}" for r in runs)
        scrape = "; ".join(f"{r['scrape_median_ms']} / {r['scrape_max_ms']}; {r['scrape_bytes']}" for r in runs if "scrapes" in r) or "–"
        events = "; ".join(f"{r['events_min']}–{r['events_max']}, {r['subscribers_dropped']}" for r in runs if "subscribers" in r) or "–"
        print(f"| {variant} | {cpu} | {rss} | {status} | {scrape} | {events} |")


if __name__ == "__main__":
    sys.exit(main())
