#!/usr/bin/env bash
# The long reliability run behind docs/reliability.md: the end-to-end tests CrashRoundsTests (kill -9 of the daemon at
# random moments, ROUNDS rounds, 20 services) and the in-place upgrade of a daemon with UPGRADE_SERVICES services,
# against the NativeAOT publish of gitproc (the build the README recommends for a daemon; the framework-dependent
# build when no C toolchain is there). Prints the figures as a Markdown table. Root for cgroups (as users run it).
#   bash bench/reliability.sh                 # 50 rounds, 100 services
#   ROUNDS=10 UPGRADE_SERVICES=30 bash bench/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-50}
services=${UPGRADE_SERVICES:-100}
work=$(mktemp -d /tmp/gitproc-reliability.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet build GitProc.sln -v q -nologo | tail -1
if command -v gcc >/dev/null && [ -e /usr/include/zlib.h ] && dotnet publish GitProc.Cli -c Release -r linux-x64 \
    -p:PublishAot=true -p:CppCompilerAndLinker=gcc -o "$work/aot" -v q -nologo >"$work/publish.log" 2>&1; then
  export GITPROC_E2E_EXECUTABLE="$work/aot/gitproc"
  build="NativeAOT"
else
  build="framework-dependent (no C toolchain for the NativeAOT publish)"
fi

export GITPROC_RELIABILITY_ROUNDS=$rounds GITPROC_RELIABILITY_UPGRADE_SERVICES=$services GITPROC_RELIABILITY_REPORT="$work/report"
dotnet test GitProc.Core.Tests --no-build -v q --nologo \
  --filter "FullyQualifiedName~CrashRoundsTests|FullyQualifiedName~An_in_place_upgrade_keeps_every_service" | tail -3

python3 - "$work/report" "$build" <<'PY'
import json, sys
base, build = sys.argv[1], sys.argv[2]
r = json.load(open(base + ".rounds.json"))
u = json.load(open(base + ".upgrade.json"))
print(f"\n{build} build, {r['Rounds']} rounds of kill -9 with 20 services:\n")
print("| figure | value |\n| --- | --- |")
for label, key in [("rounds", "Rounds"), ("acknowledged stops/starts", "Acknowledged"), ("acknowledged operations lost", "LostAcknowledgements"),
                   ("services running twice", "RunningTwice"), ("unmanaged processes", "Unmanaged"),
                   ("restarts of unchanged running services", "RestartsOfUnchanged"), ("unreadable state files", "StateUnreadable"),
                   ("counter lines written", "CounterLines"), ("counter lines lost or torn", "CounterLinesLost")]:
    print(f"| {label} | {r[key]} |")
print(f"\nIn-place upgrade (SIGHUP) of a daemon with {u['services']} services:\n")
print("| figure | value |\n| --- | --- |")
for label, key in [("PIDs changed", "pids_changed"), ("counter lines lost or torn", "counter_lines_lost"),
                   ("status requests answered during the upgrade", "status_answered"), ("status requests failed", "status_failed"),
                   ("SIGHUP → every service listed running again, ms", "sighup_to_all_running_ms")]:
    print(f"| {label} | {u[key]} |")
PY
