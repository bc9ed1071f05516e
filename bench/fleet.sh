#!/usr/bin/env bash
# Fleet benchmark (docs/benchmarks.md, "Fleet"): publishes gitproc with NativeAOT (the build the README recommends for
# running the daemon; the framework-dependent build when no C toolchain is there, and it says so), installs nginx-light
# and fcgiwrap when missing (root; behind a policy-rc.d that refuses service starts, so Debian's own nginx never runs),
# then runs bench/fleet.py: 50 daemons following one HTTPS remote on 127.0.0.1, about 15 minutes. Needs root.
#   bash bench/fleet.sh                       # 50 daemons, FetchInterval 10 s and 60 s, 5 pushes each
#   bash bench/fleet.sh --quick               # 5 daemons, 5 s, 2 pushes: a smoke run of a minute
#   bash bench/fleet.sh --daemons 20 --intervals 30 --pushes 3
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/fleet.sh needs root (cgroups, nginx)" >&2; exit 1; }
work=$(mktemp -d /tmp/gitproc-fleet-aot.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! command -v nginx >/dev/null || ! command -v fcgiwrap >/dev/null; then
  echo "== installing nginx-light and fcgiwrap"
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light fcgiwrap) >/dev/null
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, kernel $(uname -r), .NET SDK $(dotnet --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build GitProc.Cli -c Release -v q -nologo | tail -1
gitproc=GitProc.Cli/bin/Release/net10.0/gitproc
if command -v gcc >/dev/null && [ -e /usr/include/zlib.h ] && dotnet publish GitProc.Cli -c Release -r linux-x64 \
    -p:PublishAot=true -p:CppCompilerAndLinker=gcc -o "$work/aot" -v q -nologo >"$work/publish.log" 2>&1; then
  gitproc=$work/aot/gitproc
  echo "measuring the NativeAOT publish"
else
  echo "no C toolchain or zlib headers (or the publish failed): measuring the framework-dependent build" >&2
  tail -5 "$work/publish.log" >&2 2>/dev/null || true
fi
/usr/bin/python3 bench/fleet.py --gitproc "$gitproc" "$@"
