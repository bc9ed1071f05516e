#!/usr/bin/env bash
# GitProc benchmark suite: builds Release (and a NativeAOT CLI), installs the peers when root and missing, then runs
# bench/bench.py. Results: bench/results/latest.json and bench/results/latest.md. Takes about 17 minutes.
# Not part of the test suite. Extra arguments go to bench.py (e.g. --only restart,idle --trials 20).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
aot_dir=$(mktemp -d /tmp/gitproc-bench-aot.XXXXXX)
trap 'rm -rf "$aot_dir"' EXIT

echo "== building Release"
dotnet build GitProc.sln -c Release -v q -nologo | tail -2
gitproc=$root/GitProc.Cli/bin/Release/net10.0/gitproc

# The daemon measured is the NativeAOT publish, the form recommended for running it (README, "Install"); the
# framework-dependent build (the .NET tool) is measured beside it for idle cost and status.
if [ "$(id -u)" = 0 ] && { ! command -v gcc >/dev/null || [ ! -e /usr/include/zlib.h ]; }; then
  echo "== installing gcc and zlib1g-dev (for the NativeAOT build)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc zlib1g-dev) >/dev/null \
    || echo "gcc/zlib1g-dev could not be installed"
fi

echo "== publishing gitproc with NativeAOT"
gitproc_args=(--gitproc "$gitproc" --gitproc-label "JIT, framework-dependent")
if dotnet publish GitProc.Cli -c Release -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker=gcc -o "$aot_dir" \
    -v q -nologo >"$aot_dir.log" 2>&1; then
  gitproc_args=(--gitproc "$aot_dir/gitproc" --gitproc-jit "$gitproc")
else
  echo "NativeAOT publish failed (the framework-dependent build is measured alone); last lines:"; tail -5 "$aot_dir.log"
fi
rm -f "$aot_dir.log"

if [ "$(id -u)" = 0 ]; then
  if ! command -v supervisord >/dev/null; then
    echo "== installing supervisor"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq supervisor) >/dev/null \
      || echo "supervisor could not be installed: supervisord is skipped"
    # Debian's package may start its own instance; the suite starts private ones and leaves that one alone.
  fi
  if ! command -v runsvdir >/dev/null || ! command -v s6-svscan >/dev/null; then
    echo "== installing runit and s6"
    # No package may start a system daemon (runit's recommended runit-run would run runsvdir on /etc/service, so
    # recommends are left out too); the suite starts private scanners on temporary directories. A policy-rc.d made
    # here is removed again.
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runit s6) >/dev/null \
      || echo "runit/s6 could not be installed: they are skipped"
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  fi
  if ! command -v pm2 >/dev/null && command -v npm >/dev/null; then
    echo "== installing pm2"
    npm install -g pm2 >/dev/null 2>&1 || echo "pm2 could not be installed: PM2 is skipped"
  fi
else
  echo "not root: peers are used only if already installed"
fi

echo "== running (about 17 minutes)"
mkdir -p bench/results
[ $# -eq 0 ] && rm -f bench/results/latest.json  # a full run starts afresh; a partial one updates its scenarios
/usr/bin/python3 bench/bench.py "${gitproc_args[@]}" --out bench/results/latest.json "$@"
/usr/bin/python3 bench/render.py bench/results/latest.json > bench/results/latest.md
cat bench/results/latest.md
