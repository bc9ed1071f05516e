#!/usr/bin/env bash
# `gitproc check` on 500 units as a whole process (docs/benchmarks.md, "gitproc check"): publishes gitproc with
# NativeAOT (the build the README recommends; the framework-dependent build when no C toolchain is there) and runs
# bench/check.py against it, then against the framework-dependent build (`dotnet gitproc.dll`, the .NET tool) for
# comparison. No root needed; nothing outside a temporary directory is touched.
#   bash bench/check.sh                  # 500 units, 30 runs per scenario
#   UNITS=1000 RUNS=50 bash bench/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
units=${UNITS:-500}
runs=${RUNS:-30}
work=$(mktemp -d /tmp/gitproc-check-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -r), .NET SDK $(dotnet --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build GitProc.Cli -c Release -v q -nologo | tail -1
if command -v gcc >/dev/null && [ -e /usr/include/zlib.h ] && dotnet publish GitProc.Cli -c Release -r linux-x64 \
    -p:PublishAot=true -p:CppCompilerAndLinker=gcc -o "$work/aot" -v q -nologo >"$work/publish.log" 2>&1; then
  echo; echo "NativeAOT build:"
  python3 bench/check.py --gitproc "$work/aot/gitproc" --units "$units" --runs "$runs"
else
  echo "no C toolchain or zlib headers (or the publish failed, see below): the NativeAOT build was not measured" >&2
  cat "$work/publish.log" >&2 2>/dev/null || true
fi
echo; echo "Framework-dependent build (dotnet gitproc.dll):"
python3 bench/check.py --gitproc "dotnet GitProc.Cli/bin/Release/net10.0/gitproc.dll" --units "$units" --runs "$runs"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
