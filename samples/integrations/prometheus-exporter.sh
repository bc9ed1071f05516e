#!/bin/sh
# prometheus-exporter.sh: GitProc's service metrics in the Prometheus text format.
#
#   prometheus-exporter.sh                              print the metrics once, on stdout
#   prometheus-exporter.sh --textfile DIR [-i SECONDS]  rewrite DIR/gitproc.prom every SECONDS (default 15), for
#                                                       node_exporter's textfile collector
#                                                       (node_exporter --collector.textfile.directory=DIR)
#
# Metrics: gitproc_up (the daemon answered), and per service gitproc_service_up, gitproc_service_state{state=...},
# gitproc_service_restarts_total, gitproc_service_last_exit_code and gitproc_service_start_time_seconds.
# Environment: GITPROC_SOCKET (the daemon's socket), GITPROC (the gitproc command; default `gitproc` on PATH).
# It reads `gitproc list --json` and `gitproc status NAME --json` (one line of JSON each; service names contain only
# [A-Za-z0-9:_.@-], so they need no escaping as label values). No jq needed.
set -u

gitproc=${GITPROC:-gitproc}
textfile='' interval=15
while [ $# -gt 0 ]; do
    case $1 in
        --textfile) [ $# -ge 2 ] || { echo "prometheus-exporter.sh: --textfile needs a directory" >&2; exit 2; }; textfile=$2; shift 2 ;;
        -i) [ $# -ge 2 ] || { echo "prometheus-exporter.sh: -i needs a number of seconds" >&2; exit 2; }; interval=$2; shift 2 ;;
        *) echo "usage: prometheus-exporter.sh [--textfile DIR [-i SECONDS]]" >&2; exit 2 ;;
    esac
done
case $interval in ''|*[!0-9]*|0) echo "prometheus-exporter.sh: -i needs a whole number of seconds above 0" >&2; exit 2 ;; esac

# The value of KEY in a one-line JSON object: a number, a string (unquoted) or null.
json_value() {
    printf '%s\n' "$1" | sed -nE "s/.*\"$2\":(\"[^\"]*\"|[^,}]*).*/\1/p" | tr -d '"'
}

metrics() {
    if ! list=$($gitproc list --json 2>/dev/null); then
        printf '# HELP gitproc_up Whether the gitproc daemon answered.\n# TYPE gitproc_up gauge\ngitproc_up 0\n'
        return
    fi

    up='' state='' restarts='' exit_code='' started=''
    # {"services":[{"name":"web","status":"running",...},{...}]} -> one object per line
    for name in $(printf '%s\n' "$list" | tr '{' '\n' | sed -n 's/^"name":"\([^"]*\)".*/\1/p'); do
        status=$($gitproc status "$name" --json 2>/dev/null) || continue # removed meanwhile
        s=$(json_value "$status" state)
        up="${up}gitproc_service_up{service=\"$name\"} $([ "$s" = running ] && echo 1 || echo 0)
"
        for candidate in running stopped failed; do
            state="${state}gitproc_service_state{service=\"$name\",state=\"$candidate\"} $([ "$s" = "$candidate" ] && echo 1 || echo 0)
"
        done
        restarts="${restarts}gitproc_service_restarts_total{service=\"$name\"} $(json_value "$status" restart_count)
"
        code=$(json_value "$status" last_exit_code)
        [ "$code" = null ] || exit_code="${exit_code}gitproc_service_last_exit_code{service=\"$name\"} $code
"
        time=$(json_value "$status" start_time)
        # GNU date parses ISO 8601; elsewhere the metric is left out.
        if [ "$time" != null ] && seconds=$(date -d "$time" +%s 2>/dev/null); then
            started="${started}gitproc_service_start_time_seconds{service=\"$name\"} $seconds
"
        fi
    done

    # Each metric family's samples together, as the format requires.
    printf '# HELP gitproc_up Whether the gitproc daemon answered.\n# TYPE gitproc_up gauge\ngitproc_up 1\n'
    printf '# HELP gitproc_service_up Whether the service is running.\n# TYPE gitproc_service_up gauge\n%s' "$up"
    printf '# HELP gitproc_service_state The service state (running, stopped, failed): 1 for the current one.\n# TYPE gitproc_service_state gauge\n%s' "$state"
    printf '# HELP gitproc_service_restarts_total Automatic restarts (crash, unhealthy) since the daemon first started the service.\n# TYPE gitproc_service_restarts_total counter\n%s' "$restarts"
    printf '# HELP gitproc_service_last_exit_code The exit code of the service'"'"'s last process (128 + signal when killed).\n# TYPE gitproc_service_last_exit_code gauge\n%s' "$exit_code"
    printf '# HELP gitproc_service_start_time_seconds When the current (or last) process started, in Unix time.\n# TYPE gitproc_service_start_time_seconds gauge\n%s' "$started"
}

if [ -z "$textfile" ]; then
    metrics
    exit 0
fi

mkdir -p "$textfile"
tmp="$textfile/.gitproc.prom.$$"
trap 'kill $! 2>/dev/null; rm -f "$tmp"; exit 0' INT TERM
while :; do
    # Written aside and renamed, so the collector never reads half a file.
    metrics > "$tmp" && mv -f "$tmp" "$textfile/gitproc.prom"
    sleep "$interval" &
    wait $!
done
