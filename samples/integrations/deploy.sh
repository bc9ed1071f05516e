#!/bin/sh
# deploy.sh: deploys unit files to GitProc by a commit. It first shows what the commit will do (`gitproc plan`: which
# services start, restart with which changed keys, or stop) and stops there if the daemon would reject it, so a bad
# unit never reaches the branch. Then it commits, waits for the daemon's verdict (`gitproc sync --wait`: the services
# ran through the verify window, or the daemon rolled the commit back), checks the services and shows their logs. A
# commit the daemon rolled back is reverted by a new commit, so the branch tip matches what runs again.
#
#   deploy.sh [-m MESSAGE] [-t SECONDS] [-n] FILE.service...   add or change these units (-n: show the plan only)
#   deploy.sh [-m MESSAGE] [-n] --remove NAME...               remove these services
#
# Environment: GITPROC_REPO (the unit repository; default /etc/gitproc/services as root, else
# $XDG_DATA_HOME/gitproc/services), GITPROC_SOCKET (the daemon's socket), GITPROC (the gitproc command; default
# `gitproc` on PATH). Exit 0 when every deployed service runs (a oneshot: has succeeded; a unit whose ConditionHost=
# names other hosts: is known, and stopped here), else 1; 2 for bad usage.
set -eu

gitproc=${GITPROC:-gitproc}
if [ -n "${GITPROC_REPO:-}" ]; then
    repo=$GITPROC_REPO
elif [ "$(id -u)" -eq 0 ]; then
    repo=/etc/gitproc/services
else
    repo=${XDG_DATA_HOME:-$HOME/.local/share}/gitproc/services
fi

usage() { echo "usage: deploy.sh [-m MESSAGE] [-t SECONDS] [-n] FILE.service... | deploy.sh [-m MESSAGE] [-n] --remove NAME..." >&2; exit 2; }
log() { echo "[$(date '+%Y-%m-%d %H:%M:%S')] $*"; }

message='' timeout=30 remove=no dry_run=no
while [ $# -gt 0 ]; do
    case $1 in
        -m) [ $# -ge 2 ] || usage; message=$2; shift 2 ;;
        -t) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
        --remove) remove=yes; shift ;;
        -n) dry_run=yes; shift ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || usage
case $timeout in ''|*[!0-9]*) usage ;; esac

git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || { echo "deploy.sh: $repo is not a Git repository (set GITPROC_REPO)" >&2; exit 1; }
$gitproc list >/dev/null || { echo "deploy.sh: the gitproc daemon is not reachable (set GITPROC_SOCKET)" >&2; exit 1; }

# Stage exactly the named units; other edits in the repository's working tree stay out of the commit.
names='' paths=''
for arg in "$@"; do
    if [ $remove = yes ]; then
        name=${arg%.service}
        [ -f "$repo/$name.service" ] || { echo "deploy.sh: $repo has no $name.service" >&2; exit 1; }
        git -C "$repo" rm -q -- "$name.service"
    else
        case $arg in *.service) ;; *) echo "deploy.sh: $arg is not a .service file" >&2; exit 2 ;; esac
        [ -f "$arg" ] || { echo "deploy.sh: $arg does not exist" >&2; exit 1; }
        name=$(basename "$arg" .service)
        cp -- "$arg" "$repo/$name.service"
        git -C "$repo" add -- "$name.service"
    fi
    names="$names $name" paths="$paths $name.service"
done

# shellcheck disable=SC2086 # paths are unit file names: no spaces
if git -C "$repo" diff --cached --quiet -- $paths; then
    log "Nothing to deploy: the repository already has these units."
    exit 0
fi
if [ -z "$message" ]; then
    if [ $remove = yes ]; then message="Remove:$names"; else message="Deploy:$names"; fi
fi
# The commit is made as an object first, off the branch, so the daemon can plan it before anything is deployed.
# shellcheck disable=SC2086
others=$(git -C "$repo" diff --cached --name-only -- . $(for p in $paths; do printf ':!%s ' "$p"; done))
[ -z "$others" ] || { echo "deploy.sh: other changes are staged in $repo; commit or unstage them first:" >&2; echo "$others" >&2; exit 1; }
candidate=$(git -C "$repo" commit-tree "$(git -C "$repo" write-tree)" -p HEAD -m "$message")
log "Plan:"
# Puts the named units in the index and working tree back as the branch has them.
restore() {
    for p in $paths; do
        git -C "$repo" reset -q -- "$p"
        if git -C "$repo" cat-file -e "HEAD:$p" 2>/dev/null; then git -C "$repo" checkout -q HEAD -- "$p"; else rm -f -- "$repo/$p"; fi
    done
}
if ! $gitproc plan "$candidate"; then
    restore
    log "Not deployed: the daemon would reject this commit (see above). Fix the unit and deploy again."
    exit 1
fi
if [ $dry_run = yes ]; then
    restore
    log "Dry run: nothing committed."
    exit 0
fi
git -C "$repo" update-ref -m "deploy.sh: $message" HEAD "$candidate" "$(git -C "$repo" rev-parse HEAD)"
commit=$(git -C "$repo" rev-parse --short HEAD)
log "Committed $commit: $message"

# The daemon applies a new commit by itself within a second; `sync --wait` applies it now and waits until every
# service it started or restarted has come through the verify window, or the daemon rolled the commit back.
if ! sync_output=$($gitproc sync --wait 2>&1); then
    echo "$sync_output"
    case $sync_output in
        *"Rolled back:"*) log "The daemon rolled $commit back; the previous version runs again." ;;
        *) log "The daemon did not apply $commit." ;;
    esac
    git -C "$repo" revert --no-edit HEAD >/dev/null
    log "Reverted it with $(git -C "$repo" rev-parse --short HEAD), so the branch matches what runs. Fix the unit and deploy again."
    exit 1
fi
echo "$sync_output"
log "The daemon has applied $commit"

failed=0
for name in $names; do
    if [ $remove = yes ]; then
        if $gitproc status "$name" >/dev/null 2>&1; then
            log "$name is still known to the daemon"; failed=1
        else
            log "$name removed"
        fi
        continue
    fi

    # Wait until it runs (a oneshot: until it has exited successfully), or has failed for good (crash-loop limit,
    # failed dependency), or the time is up.
    waited=0
    while :; do
        status=$($gitproc status "$name" 2>&1) || true
        case $status in
            *"Status: running"*|*"Sub-State: exited"*) result=ok; break ;;
            *"Sub-State: condition"*) result=elsewhere; break ;; # its ConditionHost= names other hosts
            *"Sub-State: auto-restart"*) ;; # crashed, and the daemon restarts it: not final yet
            *"Status: failed"*) result=failed; break ;;
        esac
        if [ "$waited" -ge "$timeout" ]; then result=timeout; break; fi
        sleep 1; waited=$((waited + 1))
    done

    echo "$status"
    echo "--- last log lines of $name ---"
    $gitproc logs "$name" -n 10 || true
    case $result in
        ok) log "$name deployed" ;;
        elsewhere) log "$name deployed; it does not run on this host (ConditionHost=)" ;;
        failed) log "$name failed after the deploy"; failed=1 ;;
        timeout) log "$name did not reach running within ${timeout}s"; failed=1 ;;
    esac
done
exit $failed
