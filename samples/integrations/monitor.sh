#!/bin/sh
# monitor.sh: watches GitProc's services and restarts the ones that have failed (for example after hitting their
# crash-loop limit, StartLimitBurst), logging one line per action. Services an operator stopped, and oneshot jobs
# that have finished, are `stopped`, not `failed`, and are left alone.
#
#   monitor.sh [-i SECONDS] [--once] [SERVICE...]
#
# Without SERVICE it watches every service the daemon knows. -i: seconds between rounds (default 60). --once: one
# round, exit 1 if anything was failed or the daemon was unreachable (for cron). Environment: GITPROC_SOCKET (the
# daemon's socket), GITPROC (the gitproc command; default `gitproc` on PATH).
# It parses `gitproc list`, whose lines (`  NAME (running, PID: N)`, `  NAME (stopped)`, `  NAME (stopped (condition))`
# for a unit whose ConditionHost= names other hosts, `  NAME (failed, exit code: N)`) are a stable interface (CONTRACT §6).
set -u

gitproc=${GITPROC:-gitproc}
interval=60 once=no
while [ $# -gt 0 ]; do
    case $1 in
        -i) [ $# -ge 2 ] || { echo "monitor.sh: -i needs a number of seconds" >&2; exit 2; }; interval=$2; shift 2 ;;
        --once) once=yes; shift ;;
        -h|--help) echo "usage: monitor.sh [-i SECONDS] [--once] [SERVICE...]"; exit 0 ;;
        -*) echo "usage: monitor.sh [-i SECONDS] [--once] [SERVICE...]" >&2; exit 2 ;;
        *) break ;;
    esac
done
case $interval in ''|*[!0-9]*|0) echo "monitor.sh: -i needs a whole number of seconds above 0" >&2; exit 2 ;; esac
watched="$*"

log() { echo "[$(date '+%Y-%m-%d %H:%M:%S')] $*"; }

# One round; returns 1 when something was failed or the daemon did not answer.
check() {
    if ! list=$($gitproc list 2>&1); then
        log "gitproc daemon unreachable: $list"
        return 1
    fi

    trouble=0 running=0 stopped=0 failed=0
    # "  web (running, PID: 42)" -> "web running"
    states=$(echo "$list" | sed -n 's/^  \([^ ]*\) (\([a-z]*\).*/\1 \2/p')
    if [ -n "$watched" ]; then
        for name in $watched; do
            echo "$states" | grep -q "^$name " || { log "$name: not a service the daemon knows"; trouble=1; }
        done
    fi

    for entry in $(echo "$states" | tr ' ' ':'); do
        name=${entry%%:*} state=${entry#*:}
        if [ -n "$watched" ]; then
            case " $watched " in *" $name "*) ;; *) continue ;; esac
        fi
        case $state in
            running) running=$((running + 1)) ;;
            stopped) stopped=$((stopped + 1)) ;;
            failed)
                failed=$((failed + 1)) trouble=1
                # Between a crash and its automatic restart a service is failed with Sub-State auto-restart: the
                # daemon is already on it.
                if $gitproc status "$name" 2>/dev/null | grep -q '^Sub-State: auto-restart'; then
                    log "$name crashed; the daemon is restarting it"
                    continue
                fi
                line=$(echo "$list" | grep "^  $name (")
                line=${line#*\(}
                log "$name: ${line%)}; restarting it"
                if out=$($gitproc restart "$name" 2>&1); then
                    log "$out"
                else
                    log "restart of $name failed: $out"
                    $gitproc logs "$name" -n 5 2>/dev/null | sed 's/^/    /'
                fi
                ;;
        esac
    done
    log "round done: $running running, $stopped stopped, $failed failed"
    return $trouble
}

if [ $once = yes ]; then
    check
    exit $?
fi

log "monitoring ${watched:-every service} every ${interval}s (Ctrl-C to stop)"
trap 'kill $! 2>/dev/null; log "monitor stopped"; exit 0' INT TERM
while :; do
    check || true
    sleep "$interval" &
    wait $!
done
