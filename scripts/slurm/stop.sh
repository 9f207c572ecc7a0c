#!/usr/bin/env bash
# Stop the Slurm test cluster that scripts/slurm/start.sh started: slurmd, slurmctld,
# slurmdbd, MariaDB and munged. Run as root. Idempotent: what is not running is skipped.
#
#   --purge   also cancel every job first, then forget the cluster's state (slurmctld's and
#             slurmd's state directories and the accounting database): the next start.sh
#             begins again at job id 1 with an empty sacct.
#
# Without --purge, jobs still running keep running (their slurmstepd outlives slurmd) and the
# next start.sh picks them and the queue up again.
set -euo pipefail

STATE=/var/lib/slurm
RUN=/run/slurm
DBNAME=slurm_acct_db

[ "$(id -u)" = 0 ] || { echo "slurm: run as root (sudo bash $0)" >&2; exit 1; }
purge=0
case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac
export PATH="$PATH:/usr/sbin:/sbin"

# stop NAME PIDFILE: SIGTERM, then SIGKILL after 30 s.
stop() {
  local name=$1 pidfile=$2 pid i
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "slurm: $name ($pid) ignored SIGTERM for 30 s: SIGKILL" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
    echo "slurm: stopped $name"
  fi
  rm -f "$pidfile"
}

if [ "$purge" = 1 ] && command -v squeue >/dev/null && scontrol ping >/dev/null 2>&1; then
  jobs=$(squeue -h -o %i)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    scancel $jobs || true
    for i in $(seq 100); do
      [ -z "$(squeue -h -o %i)" ] && break
      sleep 0.1
    done
  fi
fi

stop slurmd "$RUN/slurmd.pid"
stop slurmctld "$RUN/slurmctld.pid"
stop slurmdbd "$RUN/slurmdbd.pid"

if [ "$purge" = 1 ]; then
  rm -rf "${STATE:?}/slurmctld/"* "${STATE:?}/slurmd/"*
  if mariadb-admin --silent ping >/dev/null 2>&1; then
    mariadb --protocol=socket -u root -e "DROP DATABASE IF EXISTS $DBNAME"
  fi
  echo "slurm: purged the job state and the accounting database"
fi

if command -v mariadb-admin >/dev/null && mariadb-admin --silent ping >/dev/null 2>&1; then
  mariadb-admin shutdown && echo "slurm: stopped MariaDB"
fi
stop munged /run/munge/munged.pid
echo "slurm: the test cluster is stopped"
