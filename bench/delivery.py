#!/usr/bin/env python3
"""Delivery safety timings (issue #10): how soon a bad commit gives way to the previous version, and plan latency.

Starts a private daemon (its own repository, state, socket, logs and cgroup root in a temporary directory) with a
`web` service, then:

  rollback   commits a `web` that crash-loops, N times; each run times from the end of `git commit` until the
             previous web (recognised by its command line) runs again, polling `list` on the socket every 10 ms.
  unhealthy  the same with a `web` that runs but whose health endpoint never answers: bound by the verify window.
  plan       with --units services in the repository and one changed in a commit not yet applied, times N `plan`
             requests on one connection, and N whole `gitproc plan` processes.

Prints median and p95 in ms per scenario, and a JSON line for the benchmark document.

    python3 bench/delivery.py --gitproc PATH/TO/gitproc [--runs 10] [--window 30s] [--units 100] [rollback unhealthy plan]
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
import time

GOOD_MARK = "3600.4242"


class Daemon:
    def __init__(self, gitproc, window, units):
        self.gitproc = gitproc
        self.work = tempfile.mkdtemp(prefix="gitproc-delivery-")
        self.repo = os.path.join(self.work, "repo")
        self.sock_path = os.path.join(self.work, "gitproc.sock")
        config = os.path.join(self.work, "config.json")
        with open(config, "w") as f:
            json.dump({"ResourceControl": {"CgroupRoot": f"gitproc-delivery-{os.getpid()}"},
                       "Delivery": {"VerifyWindow": window}}, f)
        subprocess.run([gitproc, "init", "--repo", self.repo], check=True, stdout=subprocess.DEVNULL)
        self.write("web", f"[Service]\nExecStart=/bin/sleep {GOOD_MARK}\nRestart=on-failure\nRestartSec=100ms\n")
        for i in range(units - 1):
            self.write(f"svc{i:03}", f"[Service]\nExecStart=/bin/sleep 3600.{i}\n")
        self.good = self.commit("good web")
        self.process = subprocess.Popen(
            [gitproc, "daemon", "--repo", self.repo, "--state", os.path.join(self.work, "state.json"),
             "--log-dir", os.path.join(self.work, "logs"), "--socket", self.sock_path, "--config", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.sock_path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline or self.process.poll() is not None:
                    raise SystemExit("the daemon did not come up")
                time.sleep(0.05)
        self.reader = self.sock.makefile("r")
        self.wait(lambda: len(self.running()) == units, "every service running", 60)

    def write(self, name, text):
        with open(os.path.join(self.repo, name + ".service"), "w") as f:
            f.write(text)

    def commit(self, message):
        git = ["git", "-C", self.repo, "-c", "user.name=bench", "-c", "user.email=bench@gitproc.invalid"]
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-qm", message], check=True)
        return subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()

    def request(self, payload):
        self.sock.sendall((json.dumps(payload) + "\n").encode())
        reply = json.loads(self.reader.readline())
        if reply.get("status") != "success":
            raise SystemExit(f"{payload} failed: {reply}")
        return reply["data"]

    def running(self):
        return {s["name"]: s["pid"] for s in self.request({"command": "list"})["services"] if s["status"] == "running"}

    def wait(self, condition, what, timeout):
        deadline = time.time() + timeout
        while not condition():
            if time.time() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            time.sleep(0.01)

    def good_web_runs(self):
        pid = self.running().get("web")
        try:
            with open(f"/proc/{pid}/cmdline") as f:
                return pid is not None and GOOD_MARK in f.read()
        except OSError:
            return False

    def close(self):
        self.sock.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def summary(samples):
    samples = sorted(samples)
    return {"runs": len(samples), "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1), "max_ms": round(samples[-1], 1)}


def bad_commits(daemon, runs, unit_text, window_s):
    samples = []
    for i in range(runs):
        daemon.write("web", unit_text(i))
        daemon.commit(f"bad web {i}")
        t0 = time.perf_counter()
        daemon.wait(lambda: not daemon.good_web_runs(), "the bad web to replace the good one", 30)
        daemon.wait(daemon.good_web_runs, "the previous web to run again", window_s + 60)
        samples.append((time.perf_counter() - t0) * 1000)
    return summary(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gitproc", required=True, help="the gitproc executable")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--window", default="30s", help="Delivery:VerifyWindow, as a systemd time span (default 30s)")
    parser.add_argument("--units", type=int, default=100, help="services in the repository for plan (default 100)")
    parser.add_argument("scenarios", nargs="*", default=["rollback", "unhealthy", "plan"])
    args = parser.parse_args()
    window_s = float(args.window.rstrip("s"))
    window = time.strftime("%H:%M:%S", time.gmtime(window_s))
    results = {"window": args.window}

    if "rollback" in args.scenarios or "unhealthy" in args.scenarios:
        daemon = Daemon(args.gitproc, window, 1)
        try:
            # The good web must pass its own window first, or the bad one would supersede it.
            time.sleep(window_s + 1)
            if "rollback" in args.scenarios:
                results["rollback"] = bad_commits(daemon, args.runs, lambda i: (
                    f"[Service]\nExecStart=/bin/sh -c 'exit {i % 100 + 1}'\nRestart=on-failure\nRestartSec=100ms\n"), window_s)
                print(f"crash-looping commit -> previous running: {results['rollback']}")
            if "unhealthy" in args.scenarios:
                results["unhealthy"] = bad_commits(daemon, args.runs, lambda i: (
                    f"[Service]\nExecStart=/bin/sleep 3600.{i}\nHealthCheckURL=http://127.0.0.1:9/health\n"
                    "HealthCheckInterval=1s\nHealthCheckTimeout=200ms\nHealthCheckRetries=1000\n"), window_s)
                print(f"never-healthy commit -> previous running: {results['unhealthy']}")
        finally:
            daemon.close()

    if "plan" in args.scenarios:
        daemon = Daemon(args.gitproc, window, args.units)
        try:
            subprocess.run(["git", "-C", daemon.repo, "checkout", "-qb", "next"], check=True)
            daemon.write("svc000", "[Service]\nExecStart=/bin/sleep 3600.5\nEnvironment=V=2\n")
            target = daemon.commit("change one")
            subprocess.run(["git", "-C", daemon.repo, "checkout", "-q", "main"], check=True)
            ipc = []
            for _ in range(args.runs * 20):
                t0 = time.perf_counter()
                data = daemon.request({"command": "plan", "args": {"commit": target}})
                ipc.append((time.perf_counter() - t0) * 1000)
            assert any(a["action"] == "restart" for a in data["actions"]), data
            cli = []
            for _ in range(args.runs * 2):
                t0 = time.perf_counter()
                subprocess.run([args.gitproc, "--socket", daemon.sock_path, "plan", target], check=True, stdout=subprocess.DEVNULL)
                cli.append((time.perf_counter() - t0) * 1000)
            results["plan_ipc"] = summary(ipc)
            results["plan_cli"] = summary(cli)
            results["units"] = args.units
            print(f"plan over IPC, {args.units} units: {results['plan_ipc']}")
            print(f"gitproc plan (whole process), {args.units} units: {results['plan_cli']}")
        finally:
            daemon.close()

    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
