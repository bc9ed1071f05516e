#!/usr/bin/env python3
"""Latency of an operator's stop+start pair over the daemon's socket (durable acknowledgements, issue #9).

Starts a private daemon (its own repository, state, socket, logs and cgroup root in a temporary directory) with one
`sleep` service, then times N pairs of `stop` and `start` requests on one connection: each reply is sent only once
the operator's choice is on disk, so the pair's time includes the state writes. Prints median and p95 in ms, and a
JSON line for the benchmark document.

    python3 bench/ack_latency.py --gitproc PATH/TO/gitproc [--pairs 200] [--state-dir DIR]

--state-dir puts the state file on another file system (a disk rather than tmpfs, say), where fsync costs more.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from daemon_socket import connect_when_up


def request(sock, reader, command, service):
    sock.sendall((json.dumps({"command": command, "service": service}) + "\n").encode())
    reply = json.loads(reader.readline())
    if reply.get("status") != "success":
        raise SystemExit(f"{command} {service} failed: {reply}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gitproc", required=True, help="the gitproc executable")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--state-dir", help="directory for the state file (default: inside the temporary directory)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="gitproc-ack-")
    repo = os.path.join(work, "repo")
    sock_path = os.path.join(work, "gitproc.sock")
    state_dir = args.state_dir or os.path.join(work, "state")
    os.makedirs(state_dir, exist_ok=True)
    state = os.path.join(state_dir, f"ack-{os.getpid()}.json")
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump({"ResourceControl": {"CgroupRoot": f"gitproc-ack-{os.getpid()}"}}, f)

    subprocess.run([args.gitproc, "init", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(repo, "svc.service"), "w") as f:
        f.write("[Service]\nExecStart=/bin/sleep 3600.4242\n")
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@gitproc.invalid"]
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "svc"], check=True)

    daemon = subprocess.Popen(
        [args.gitproc, "daemon", "--repo", repo, "--state", state, "--log-dir", os.path.join(work, "logs"),
         "--socket", sock_path, "--config", config],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        sock = connect_when_up(sock_path, daemon, timeout=30)
        reader = sock.makefile("r")
        time.sleep(0.5)  # the initial apply
        samples = []
        for _ in range(args.pairs):
            t0 = time.perf_counter()
            request(sock, reader, "stop", "svc")
            request(sock, reader, "start", "svc")
            samples.append((time.perf_counter() - t0) * 1000)
        sock.close()
        samples.sort()
        result = {
            "pairs": args.pairs,
            "median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
            "state_dir": state_dir,
        }
        print(f"stop+start pair: median {result['median_ms']} ms, p95 {result['p95_ms']} ms over {args.pairs} pairs")
        print(json.dumps(result))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(work, ignore_errors=True)
        if args.state_dir:
            for suffix in ("", ".lock"):
                try:
                    os.remove(state + suffix)
                except OSError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
