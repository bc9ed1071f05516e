#!/bin/sh
# The sample worker (worker.service): every WORKER_INTERVAL seconds logs WORKER_MESSAGE and takes one job from the
# spool directory prepare.service made. Exits 0 on SIGTERM, which is how GitProc stops it.
set -u
spool=${1:?usage: worker.sh SPOOL_DIR}
message=${WORKER_MESSAGE:-working}
interval=${WORKER_INTERVAL:-2}

trap 'kill $! 2>/dev/null; echo "worker $$ stopping"; exit 0' TERM INT
echo "worker $$ started: message='$message', interval=${interval}s, spool=$spool"
tick=0
while :; do
    tick=$((tick + 1))
    job=$(ls "$spool" 2>/dev/null | head -n 1)
    if [ -n "$job" ]; then
        rm -f "$spool/$job"
        echo "tick $tick: $message (took $job)"
    else
        echo "tick $tick: $message (spool empty)"
    fi
    # Sleep in the background and wait for it, so SIGTERM is handled at once rather than after the sleep; quietly,
    # since GitProc signals the whole process group and the shell would report the killed sleep.
    sleep "$interval" &
    wait $! 2>/dev/null
done
