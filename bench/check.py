#!/usr/bin/env python3
"""`gitproc check` on 500 units as a whole process (issue #10; target <= 200 ms), as a pre-commit hook or CI runs it.

Writes --units unit files of a typical size (17 lines: description, dependencies on the previous services, a command,
restart policy, environment, limits, a health check) into a temporary directory, commits them to a Git repository
there, and times whole `gitproc check` processes (spawn to exit, from Python's subprocess.run, whose own overhead of
about 1 ms is included):

  directory     gitproc check DIR                         every unit valid, nothing printed
  commit        gitproc check --commit HEAD --repo REPO   the same units read from the commit (libgit2)
  one error     gitproc check DIR                         one unit with a misspelt key: the error, exit 1
  warnings      gitproc check DIR                         every unit also has [Install] and ProtectSystem=: 1,000
                                                          warning lines printed, exit 0
  empty         gitproc check EMPTY_DIR                   no unit: the floor (process start, settings, output)

Each scenario: 3 warm-up runs, then --runs timed ones. Prints median, p95, min and max in ms and one JSON line.

    python3 bench/check.py --gitproc PATH/TO/gitproc [--units 500] [--runs 30]
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def unit(i, warnings):
    after = f"svc{i - 1:03}.service" if i % 10 else ""
    text = (
        "[Unit]\n"
        f"Description=Benchmark service {i}\n"
        + (f"After={after}\nRequires={after}\n" if after else "")
        + "StartLimitBurst=5\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart=/usr/bin/svc --port {8000 + i} --name \"service {i}\" $OPTS\n"
        "Restart=on-failure\n"
        "RestartSec=2s\n"
        "Environment=\"A=1\" \"B=two words\"\n"
        "MemoryMax=256M\n"
        "CPUQuota=50%\n"
        "TasksMax=64\n"
        f"HealthCheckURL=http://127.0.0.1:{8000 + i}/health\n"
        "HealthCheckInterval=10s\n"
    )
    if warnings:
        text += "ProtectSystem=strict\n\n[Install]\nWantedBy=multi-user.target\n"
    return text


def write_units(directory, count, warnings=False, typo=None):
    os.makedirs(directory)
    for i in range(count):
        text = unit(i, warnings)
        if i == typo:
            text = text.replace("Restart=on-failure", "Restrat=on-failure")
        with open(os.path.join(directory, f"svc{i:03}.service"), "w") as f:
            f.write(text)


def timed(command, runs, expect):
    for _ in range(3):
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    output = None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
        if done.returncode != expect:
            sys.exit(f"{' '.join(command)} exited {done.returncode}, expected {expect}:\n{done.stdout.decode()}{done.stderr.decode()}")
        output = done.stdout.decode()
    samples.sort()
    return {
        "median": round(statistics.median(samples), 1),
        "p95": round(samples[max(0, int(round(0.95 * len(samples))) - 1)], 1),
        "min": round(samples[0], 1),
        "max": round(samples[-1], 1),
        "n": runs,
        "stdout_lines": len(output.splitlines()),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gitproc", required=True, help="the gitproc executable, or a command such as 'dotnet gitproc.dll'")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    gitproc = shlex.split(args.gitproc)

    work = tempfile.mkdtemp(prefix="gitproc-check-bench-")
    try:
        repo = os.path.join(work, "repo")
        write_units(repo, args.units)
        git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@gitproc.invalid", "-c", "commit.gpgsign=false"]
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "units"], check=True)
        write_units(os.path.join(work, "typo"), args.units, typo=args.units // 2)
        write_units(os.path.join(work, "warnings"), args.units, warnings=True)
        os.makedirs(os.path.join(work, "empty"))

        scenarios = [
            ("directory", gitproc + ["check", repo], 0),
            ("commit", gitproc + ["check", "--commit", "HEAD", "--repo", repo], 0),
            ("one error", gitproc + ["check", os.path.join(work, "typo")], 1),
            ("warnings", gitproc + ["check", os.path.join(work, "warnings")], 0),
            ("empty", gitproc + ["check", os.path.join(work, "empty")], 0),
        ]
        results = {}
        print(f"gitproc check, {args.units} units, {args.runs} runs each (ms, whole process)\n")
        print("| scenario | median | p95 | min | max | stdout lines |\n| --- | --- | --- | --- | --- | --- |")
        for name, command, expect in scenarios:
            r = timed(command, args.runs, expect)
            results[name] = r
            print(f"| {name} | {r['median']} | {r['p95']} | {r['min']} | {r['max']} | {r['stdout_lines']} |", flush=True)
        print(json.dumps({"units": args.units, "runs": args.runs, "results": results}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
