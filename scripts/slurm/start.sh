#!/usr/bin/env bash
# Start a real one-node Slurm cluster on this machine, for CI and the Slurm tests:
# munged, MariaDB, slurmdbd, slurmctld and slurmd, with accounting (sacct) and
# partition-priority preemption. Run as root. Idempotent: when the cluster is already
# up with this configuration it says so and exits 0; a daemon that is down is started
# again, and a changed configuration restarts slurmctld and slurmd.
# docs/slurm.md explains the configuration; scripts/slurm/stop.sh stops it all.
#
# Environment: SLURM_START_TIMEOUT (seconds to wait for each daemon, default 60).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CONF_DIR=/etc/slurm
STATE=/var/lib/slurm
LOG=/var/log/slurm
RUN=/run/slurm
CLUSTER=lstm
DBNAME=slurm_acct_db
DBUSER=slurm
# A local test database reached only through its Unix socket; not a secret.
DBPASS=slurm-test-cluster
MUNGE_KEY=/etc/munge/munge.key
TIMEOUT=${SLURM_START_TIMEOUT:-60}
T0=$(date +%s.%N)

say() { echo "slurm: $*"; }

dump_logs() {
  echo "slurm: the Slurm test cluster did not start; the logs' last lines follow." >&2
  local f
  for f in "$LOG/slurmctld.log" "$LOG/slurmd.log" "$LOG/slurmdbd.log" "$LOG/mariadb.log" \
           /var/log/munge/munged.log; do
    if [ -f "$f" ]; then
      echo "----- tail -n 30 $f" >&2
      tail -n 30 "$f" >&2 || true
    else
      echo "----- $f: missing" >&2
    fi
  done
  echo "----- logs are in $LOG (and /var/log/munge); configuration in $CONF_DIR" >&2
}

fail() {
  echo "slurm: ERROR: $*" >&2
  dump_logs
  exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s until COMMAND succeeds.
# WAIT_DAEMON=name wait_for ...: fail at once when no process of that name is left.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ -n "${WAIT_DAEMON:-}" ] && ! pgrep -x "$WAIT_DAEMON" >/dev/null; then
      fail "$what: $WAIT_DAEMON exited"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      fail "$what: not ready after ${seconds}s"
    fi
    sleep 0.1
  done
}

# running PIDFILE: the process in PIDFILE is alive.
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

[ "$(id -u)" = 0 ] || { echo "slurm: run as root (sudo bash $0)" >&2; exit 1; }

# --- packages (a CI machine starts without them) -------------------------------------
missing=0
for cmd in munged mariadbd mariadb-admin slurmdbd slurmctld slurmd sbatch sacct sacctmgr; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing=1
done
if [ "$missing" = 1 ]; then
  say "installing slurm-wlm munge slurmdbd mariadb-server with apt-get"
  apt-get update -qq
  # No systemd here: a policy-rc.d that says 101 keeps the packages' postinst scripts
  # from starting their services through init.d (this script starts them itself).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge slurmdbd mariadb-server >/dev/null
  if trap -p EXIT | grep -q policy-rc.d; then rm -f "$policy"; trap - EXIT; fi
  T0=$(date +%s.%N)  # the start time reported below leaves the install out
fi
export PATH="$PATH:/usr/sbin:/sbin"

# --- configuration, rendered from the templates next to this script -----------------
HOST=$(hostname -s)
CPUS=$(nproc)
# The sockets, cores and threads slurmd finds, when they add up to nproc (a container may be
# given fewer CPUs than the hardware has: then CPUs alone, and slurmd takes that as said).
TOPOLOGY=$(slurmd -C 2>/dev/null | head -n 1 | grep -o 'Boards=.* ThreadsPerCore=[0-9]*' || true)
hw_cpus=$(slurmd -C 2>/dev/null | head -n 1 | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
[ "$hw_cpus" = "$CPUS" ] || TOPOLOGY=""
total_mb=$(free -m | awk '/^Mem:/ {print $2}')
# Leave 10% (at least 512 MB) to the system: slurmd refuses a RealMemory above the real one.
margin=$((total_mb / 10 > 512 ? total_mb / 10 : 512))
MEMORY=$((total_mb - margin > 256 ? total_mb - margin : 256))

render() {
  sed -e "s|@CLUSTER@|$CLUSTER|g" -e "s|@HOST@|$HOST|g" -e "s|@CPUS@|$CPUS|g" -e "s|@TOPOLOGY@|$TOPOLOGY|g" \
      -e "s|@MEMORY@|$MEMORY|g" -e "s|@STATE@|$STATE|g" -e "s|@LOG@|$LOG|g" -e "s|@RUN@|$RUN|g" \
      -e "s|@DBNAME@|$DBNAME|g" -e "s|@DBUSER@|$DBUSER|g" -e "s|@DBPASS@|$DBPASS|g" \
      -e "s|@SCHED@|bf_interval=1,sched_interval=1,sched_min_interval=100000,batch_sched_delay=0|g" \
      -e "s|@MINJOBAGE@|10|g" -e "s|@GRACE@|10|g" "$1"
}

mkdir -p "$CONF_DIR" "$STATE/slurmctld" "$STATE/slurmd" "$LOG" "$RUN"
chown slurm:slurm "$STATE" "$STATE/slurmctld" "$LOG" "$RUN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render "$HERE/slurm.conf.in" >"$tmp/slurm.conf"
render "$HERE/slurmdbd.conf.in" >"$tmp/slurmdbd.conf"
conf_changed=0
if ! cmp -s "$tmp/slurm.conf" "$CONF_DIR/slurm.conf"; then
  install -m 644 "$tmp/slurm.conf" "$CONF_DIR/slurm.conf"
  conf_changed=1
fi
if ! cmp -s "$tmp/slurmdbd.conf" "$CONF_DIR/slurmdbd.conf"; then
  install -m 600 -o slurm -g slurm "$tmp/slurmdbd.conf" "$CONF_DIR/slurmdbd.conf"
  conf_changed=1
fi

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1; }
node_up() { node_state | grep -Eqx 'idle|mixed|allocated|completing'; }
node_idle() { [ "$(node_state)" = idle ]; }
cluster_up() {
  running "$RUN/slurmdbd.pid" && running "$RUN/slurmctld.pid" && running "$RUN/slurmd.pid" &&
    node_up && sacct -n -X -S now >/dev/null 2>&1
}

if [ "$conf_changed" = 0 ] && cluster_up; then
  say "already up: node $HOST ($(node_state)), partitions debug (default) and urgent; logs in $LOG"
  exit 0
fi

# --- munge: refuses to run as root, so it runs as the munge user ---------------------
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
if [ ! -s "$MUNGE_KEY" ]; then
  say "creating $MUNGE_KEY"
  mkdir -p "$(dirname "$MUNGE_KEY")"
  mungekey --create --keyfile="$MUNGE_KEY" --force
fi
chown munge:munge "$(dirname "$MUNGE_KEY")" "$MUNGE_KEY"
chmod 700 "$(dirname "$MUNGE_KEY")"
chmod 400 "$MUNGE_KEY"
munge_ok() { munge -n </dev/null | unmunge >/dev/null; }
if ! munge_ok 2>/dev/null; then
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
  wait_for "$TIMEOUT" munged munge_ok
fi

# --- MariaDB: the accounting database ------------------------------------------------
db_ok() { mariadb-admin --silent ping; }
if ! db_ok >/dev/null 2>&1; then
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    say "initialising /var/lib/mysql"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$LOG/mariadb.log" 2>&1 ||
      fail "mariadb-install-db failed"
  fi
  # Unix socket only (/run/mysqld/mysqld.sock): nothing listens on 3306.
  nohup mariadbd --user=mysql --skip-networking >>"$LOG/mariadb.log" 2>&1 </dev/null &
  wait_for "$TIMEOUT" MariaDB db_ok
fi
mariadb --protocol=socket -u root <<SQL || fail "could not create the accounting database"
CREATE DATABASE IF NOT EXISTS $DBNAME;
CREATE USER IF NOT EXISTS '$DBUSER'@'localhost' IDENTIFIED BY '$DBPASS';
GRANT ALL ON $DBNAME.* TO '$DBUSER'@'localhost';
SQL

# --- slurmdbd ------------------------------------------------------------------------
if [ "$conf_changed" = 1 ] && running "$RUN/slurmdbd.pid"; then
  kill "$(cat "$RUN/slurmdbd.pid")"
  wait_for 30 "slurmdbd to stop" bash -c "! kill -0 $(cat "$RUN/slurmdbd.pid") 2>/dev/null"
fi
if ! running "$RUN/slurmdbd.pid"; then
  slurmdbd || fail "slurmdbd did not start"
fi
# --- slurmctld and slurmd ------------------------------------------------------------
stop_pid() {
  local pidfile=$1
  if running "$pidfile"; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid"
    wait_for 30 "$pidfile to stop" bash -c "! kill -0 $pid 2>/dev/null"
  fi
}
if [ "$conf_changed" = 1 ]; then
  stop_pid "$RUN/slurmd.pid"
  stop_pid "$RUN/slurmctld.pid"
fi
# slurmctld starts once slurmdbd answers (about 0.5 s; the first start creates the tables,
# a few seconds). Started alongside it, slurmctld finds it down: without saved state it exits
# ("we have no TRES"), with state it runs but reconnects only seconds later (jobs missing
# from sacct meanwhile, and 20 s until it has registered): not worth the second it saves.
clusters() { sacctmgr -n -P list cluster format=cluster >"$tmp/clusters"; }
WAIT_DAEMON=slurmdbd wait_for "$TIMEOUT" slurmdbd clusters
if ! grep -qx "$CLUSTER" "$tmp/clusters"; then
  sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail "sacctmgr add cluster $CLUSTER failed"
fi
# slurmd need not wait for slurmctld: it registers as soon as slurmctld answers.
if ! running "$RUN/slurmctld.pid"; then
  slurmctld || fail "slurmctld did not start"
fi
if ! running "$RUN/slurmd.pid"; then
  slurmd || fail "slurmd did not start"
fi
WAIT_DAEMON=slurmctld wait_for "$TIMEOUT" slurmctld scontrol ping
# node_ready: the node answers; one left down or drained by an earlier run is resumed.
node_ready() {
  local state
  state=$(node_state)
  case "$state" in
    idle | mixed | allocated | completing) return 0 ;;
    down | drained | draining | drain) scontrol update nodename="$HOST" state=resume ;;
  esac
  return 1
}
WAIT_DAEMON=slurmd wait_for "$TIMEOUT" "node $HOST up (sinfo)" node_ready
wait_for "$TIMEOUT" "sacct" sacct -n -X -S now

elapsed=$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $T0}")
say "up in ${elapsed}s: node $HOST ($CPUS CPUs, ${MEMORY} MB, $(node_state)), partitions debug (default) and urgent; logs in $LOG"
