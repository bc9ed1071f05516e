#!/bin/sh
# The sample oneshot job (prepare.service): makes the worker's spool directory and seeds it with a few jobs.
set -eu
spool=${1:?usage: prepare.sh SPOOL_DIR}
mkdir -p "$spool"
for n in 1 2 3; do
    echo "job $n" > "$spool/job-$n"
done
echo "prepared $spool with 3 jobs"
