#!/usr/bin/env bash
# GitProc in one command: builds gitproc and the sample web service, creates a scratch Git repository holding the
# sample units (samples/units), and runs `gitproc daemon` on it in the foreground. Ctrl-C stops the daemon, which
# stops its services first. Needs only the .NET SDK and git.
#
#   bash samples/demo.sh
#
# Everything lives in one scratch directory (printed at start), never in /etc, /var or your real XDG directories:
#   $XDG_RUNTIME_DIR/gitproc-demo when that variable is set, else ${TMPDIR:-/tmp}/gitproc-demo-$USER.
# Settings (environment): GITPROC_DEMO_DIR (the scratch directory), GITPROC_DEMO_PORT (the web service's port,
# default 18080), GITPROC_DEMO_CONFIGURATION (Debug or Release, default Debug).
set -euo pipefail

# Braces: bash reads the whole block before running it, so editing this file (a git pull) while the daemon runs
# cannot change what the running script does next.
{

samples=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$samples")
port=${GITPROC_DEMO_PORT:-18080}
configuration=${GITPROC_DEMO_CONFIGURATION:-Debug}
if [[ -n ${GITPROC_DEMO_DIR:-} ]]; then
    demo=$GITPROC_DEMO_DIR
elif [[ -n ${XDG_RUNTIME_DIR:-} ]]; then
    demo=$XDG_RUNTIME_DIR/gitproc-demo
else
    demo=${TMPDIR:-/tmp}/gitproc-demo-$(id -un)
fi

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '%s==> %s%s\n' "$bold" "$*" "$plain"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH; install the .NET 10 SDK first."
command -v git >/dev/null || die "git is not on PATH; install git first."
dotnet=$(command -v dotnet)
dotnet=$(readlink -f "$dotnet" 2>/dev/null || printf '%s' "$dotnet")

# A second demo on the same socket would fail anyway (the daemon refuses a socket another daemon owns); say why.
if [[ -S $demo/gitproc.sock ]] && "$demo/bin/gitproc" --socket "$demo/gitproc.sock" list >/dev/null 2>&1; then
    die "a demo daemon is already running on $demo/gitproc.sock; stop it (Ctrl-C in its terminal) first."
fi

build() {
    local project=$1 output
    if ! output=$(dotnet build "$root/$project" -c "$configuration" -nologo -v q 2>&1); then
        printf '%s\n' "$output" >&2
        die "building $project failed (output above)."
    fi
}
say "Building gitproc and the sample web service ($configuration; the first build takes a minute)"
build GitProc.Cli/GitProc.Cli.csproj
build samples/SampleWeb/SampleWeb.csproj
gitproc_dll=$root/GitProc.Cli/bin/$configuration/net10.0/gitproc.dll
sampleweb_dll=$root/samples/SampleWeb/bin/$configuration/net10.0/SampleWeb.dll
[[ -f $gitproc_dll && -f $sampleweb_dll ]] || die "the build did not produce $gitproc_dll and $sampleweb_dll."

# Start from a clean scratch directory, but only ever delete one this script made.
if [[ -e $demo ]]; then
    [[ -f $demo/.gitproc-demo ]] || die "$demo exists and was not made by demo.sh; set GITPROC_DEMO_DIR to another directory."
    rm -rf -- "$demo"
fi
mkdir -p "$demo/bin" "$demo/data" "$demo/logs" "$demo/state"
chmod 700 "$demo"
touch "$demo/.gitproc-demo"

# `gitproc` for this demo: runs the freshly built CLI through the dotnet host (works wherever the SDK is installed).
cat > "$demo/bin/gitproc" <<EOF
#!/bin/sh
exec "$dotnet" "$gitproc_dll" "\$@"
EOF
chmod +x "$demo/bin/gitproc"
gitproc=$demo/bin/gitproc

# What the second terminal sources: the CLI on PATH, the demo daemon's socket (GITPROC_SOCKET) and repository.
cat > "$demo/env.sh" <<EOF
export PATH="$demo/bin:\$PATH"
export GITPROC_SOCKET="$demo/gitproc.sock"
export GITPROC_REPO="$demo/repo"
EOF

# Settings that have no command-line option go in a config file: a cgroup root of its own (as root), so the demo's
# services never meet those of a real gitproc daemon on this machine.
cat > "$demo/gitproc.json" <<EOF
{
  "GitProc": {
    "ResourceControl": { "CgroupRoot": "gitproc-demo" }
  }
}
EOF

say "Creating the unit repository $demo/repo"
"$gitproc" init --repo "$demo/repo"
# Commits in the scratch repository need an identity; a fresh machine may have none configured.
git -C "$demo/repo" config user.name "GitProc demo"
git -C "$demo/repo" config user.email "demo@gitproc.invalid"

# sed replacement text: escape the characters sed treats specially (\, & and the | delimiter).
escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
for unit in "$samples"/units/*.service; do
    sed -e "s|@DOTNET@|$(escape "$dotnet")|g" \
        -e "s|@SAMPLEWEB@|$(escape "$sampleweb_dll")|g" \
        -e "s|@SAMPLES@|$(escape "$samples")|g" \
        -e "s|@DATA@|$(escape "$demo/data")|g" \
        -e "s|@PORT@|$(escape "$port")|g" \
        "$unit" > "$demo/repo/$(basename "$unit")"
done
git -C "$demo/repo" add -A
git -C "$demo/repo" commit -q -m "Add the sample services: web, worker, prepare"
git --no-pager -C "$demo/repo" log --oneline

cat <<EOF

$(say "In a second terminal, drive the daemon:")

  source $demo/env.sh     # gitproc on PATH, GITPROC_SOCKET=$demo/gitproc.sock

  gitproc list
  gitproc status web
  gitproc logs worker -n 5
  gitproc logs web -f                      # follow; Ctrl-C to stop following

  # Change a unit by a commit: the daemon restarts exactly that service within a second.
  cd "\$GITPROC_REPO"
  sed -i 's/WORKER_INTERVAL=2/WORKER_INTERVAL=5/' worker.service
  git commit -qam "worker: poll every 5 s"
  gitproc status worker                    # a new PID and Started time
  gitproc logs worker -n 3                 # "interval=5s"

  # Roll back: a new commit whose tree is the previous one's; the worker restarts with interval 2 s again.
  gitproc rollback HEAD~1
  git log --oneline

Files: repository $demo/repo, state $demo/state, logs $demo/logs (one NAME.log per service), settings
$demo/gitproc.json. The sample integrations (samples/integrations) work against this daemon too.

$(say "Starting gitproc daemon (Ctrl-C stops it and its services)")
EOF

status=0
"$gitproc" daemon \
    --repo "$demo/repo" \
    --socket "$demo/gitproc.sock" \
    --state "$demo/state/state.json" \
    --log-dir "$demo/logs" \
    --config "$demo/gitproc.json" || status=$?
echo
say "The daemon exited ($status). The demo's files stay in $demo until the next run."
exit "$status"
}
