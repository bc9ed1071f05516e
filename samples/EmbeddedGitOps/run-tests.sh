#!/usr/bin/env bash
# Packs GitProc.Core and GitProc.Hosting from this checkout into a temporary folder, then restores, builds and tests
# this sample against those packages, as an application of yours would consume them. Exits non-zero when a step or a
# test fails. Arguments go to `dotnet test` (.ci/run passes a TRX logger and a results directory).
#   bash samples/EmbeddedGitOps/run-tests.sh [DOTNET TEST ARGUMENTS...]
# Nothing is left behind: the packages, both builds' outputs and the packed version's copy in the NuGet global
# packages folder are removed at exit; the checkout's own bin/ and obj/ folders are not touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work=$(mktemp -d -t gitproc-sample.XXXXXX)
# A version no earlier run used: NuGet keeps every restored package in its global folder by id and version, and would
# restore a stale copy of a repacked 0.1.0.
version="0.1.0-local.$(date -u +%Y%m%d%H%M%S).$$"
global_packages=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')
cleanup() {
    rm -rf "$work"
    if [ -n "$global_packages" ]; then
        rm -rf "$global_packages/gitproc.core/$version" "$global_packages/gitproc.hosting/$version"
    fi
}
trap cleanup EXIT

step() {
    local name=$1 started=$SECONDS
    shift
    echo "== $name" >&2
    "$@"
    echo "== $name: $((SECONDS - started)) s" >&2
}

for project in GitProc.Core GitProc.Hosting; do
    step "pack $project $version" dotnet pack "$repo/$project" -c Release -p:Version="$version" \
        -o "$work/packages" --artifacts-path "$work/gitproc" -v q -nologo
done

# The package folder goes on the command line, never into a file: the sample names no package source.
step "test the sample against $version" dotnet test "$here/EmbeddedGitOps.Tests" -c Release \
    -p:GitProcVersion="$version" -p:RestoreAdditionalProjectSources="$work/packages" \
    --artifacts-path "$work/sample" "$@"
