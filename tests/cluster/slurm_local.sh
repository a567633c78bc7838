#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, to test the cluster profile (workflow/profiles/slurm).
#
#   tests/cluster/slurm_local.sh [start]   start munged, slurmctld and slurmd (idempotent, as root);
#                                          prints 'started', or 'running' if they already ran
#   tests/cluster/slurm_local.sh stop      kill the daemons this script started, by their PIDs, and
#                                          remove the slurm.conf it wrote once no slurmctld runs
#   tests/cluster/slurm_local.sh status    print the daemons' PIDs and `sinfo`
#
# Needs the Debian packages slurm-wlm and munge (SLURM 22.05). There is no accounting database, so
# `sacct` is disabled: Snakemake must poll with `squeue` (the profile's slurm-status-command), and
# MinJobAge=86400 keeps finished jobs visible to squeue (status polls) and scontrol (test checks).
# Only the daemons this script started are recorded (in $STATE_DIR) and stopped; a munged that was
# already running is used and left alone.
set -euo pipefail

STATE_DIR=${SLURM_LOCAL_STATE_DIR:-/run/cinexai-slurm-local}
CONF=/etc/slurm/slurm.conf
PARTITION=${SLURM_LOCAL_PARTITION:-main}
NODE=$(hostname -s)  # slurmd matches NodeName against the short host name
MUNGE_KEY=/etc/munge/munge.key
MUNGE_PIDFILE=/run/munge/munged.pid
CTLD_PIDFILE=/run/slurmctld.pid
SLURMD_PIDFILE=/run/slurmd.pid
CONF_MARK="Written by tests/cluster/slurm_local.sh"

STARTED_NOW=()  # daemons this invocation started: stopped again if starting fails

log() { echo "slurm_local: $*" >&2; }
die() {
    log "ERROR: $*"
    local name
    for name in "${STARTED_NOW[@]}"; do stop_one "$name"; done
    exit 1
}

# PID stored in a pidfile, if that process is alive; empty otherwise.
live_pid() {
    local pid
    [[ -s $1 ]] || return 0
    pid=$(<"$1")
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

# Whether $CONF is one this script wrote (its first line carries the mark).
conf_written_here() { head -n 1 "$CONF" | grep -q "$CONF_MARK"; }

# Wait up to $2 seconds for command $1 to succeed.
wait_for() {
    local i
    for ((i = 0; i < $2 * 2; i++)); do
        if eval "$1" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}

require_root_and_tools() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (daemons, /etc/slurm, /etc/munge)"
    local tool
    for tool in munged slurmctld slurmd sinfo sbatch; do
        command -v "$tool" >/dev/null || die "'$tool' not found: apt-get install -y slurm-wlm munge"
    done
}

start_munge() {
    if [[ -n $(live_pid "$MUNGE_PIDFILE") ]]; then
        log "munged already running (pid $(live_pid "$MUNGE_PIDFILE"))"
        return
    fi
    if [[ ! -s $MUNGE_KEY ]]; then
        log "creating $MUNGE_KEY"
        install -d -o munge -g munge -m 700 /etc/munge
        dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
    fi
    chown munge:munge "$MUNGE_KEY" && chmod 400 "$MUNGE_KEY"
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged
    wait_for "[[ -n \$(live_pid $MUNGE_PIDFILE) ]]" 10 || die "munged did not start"
    live_pid "$MUNGE_PIDFILE" >"$STATE_DIR/munged.pid"
    STARTED_NOW=(munged "${STARTED_NOW[@]}")
    log "munged started (pid $(<"$STATE_DIR/munged.pid"))"
}

write_conf() {
    # The node line (CPUs, sockets, RealMemory) is what slurmd detects on this machine.
    local node_line
    if [[ -e $CONF ]] && ! conf_written_here; then
        die "$CONF exists and was not written by this script; not touching a real cluster's config"
    fi
    node_line=$(slurmd -C | head -n 1)
    [[ $node_line == NodeName=$NODE* ]] || die "unexpected 'slurmd -C' output: $node_line"
    install -d -m 755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    # OverSubscribe=FORCE lets jobs share the node's few cores, so a test's jobs run side by side.
    cat >"$CONF" <<EOF
# $CONF_MARK: a one-node test cluster without accounting.
ClusterName=local
SlurmctldHost=$NODE
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PIDFILE
SlurmdPidFile=$SLURMD_PIDFILE
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=86400
$node_line State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
    log "wrote $CONF ($node_line)"
}

start_slurm() {
    if [[ -n $(live_pid "$CTLD_PIDFILE") && -n $(live_pid "$SLURMD_PIDFILE") ]]; then
        log "slurmctld and slurmd already running"
        echo running
    else
        [[ -z $(live_pid "$CTLD_PIDFILE") && -z $(live_pid "$SLURMD_PIDFILE") ]] \
            || die "only one of slurmctld and slurmd runs; run '$0 stop' first"
        write_conf
        /usr/sbin/slurmctld -c  # -c: start from a clean job state
        wait_for "[[ -n \$(live_pid $CTLD_PIDFILE) ]] && scontrol ping | grep -q UP" 30 \
            || die "slurmctld did not come up; see /var/log/slurm/slurmctld.log"
        live_pid "$CTLD_PIDFILE" >"$STATE_DIR/slurmctld.pid"
        STARTED_NOW=(slurmctld "${STARTED_NOW[@]}")
        /usr/sbin/slurmd
        wait_for "[[ -n \$(live_pid $SLURMD_PIDFILE) ]]" 30 \
            || die "slurmd did not start; see /var/log/slurm/slurmd.log"
        live_pid "$SLURMD_PIDFILE" >"$STATE_DIR/slurmd.pid"
        STARTED_NOW=(slurmd "${STARTED_NOW[@]}")
        log "slurmctld (pid $(<"$STATE_DIR/slurmctld.pid")) started"
        log "slurmd (pid $(<"$STATE_DIR/slurmd.pid")) started"
        echo started
    fi
    wait_for "sinfo -h -n $NODE -o %T | grep -Eq '^(idle|mixed|allocated)'" 60 \
        || die "node $NODE is not up: $(sinfo -h -n "$NODE" -o '%T %E')"
    log "node $NODE is $(sinfo -h -n "$NODE" -o %T) in partition $PARTITION"
}

# Kill the daemon whose PID this script recorded in $STATE_DIR/$1.pid, and wait for it to exit.
stop_one() {
    local file=$STATE_DIR/$1.pid pid
    [[ -s $file ]] || return 0
    pid=$(<"$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        if ! wait_for "! kill -0 $pid" 20; then
            log "$1 (pid $pid) ignored SIGTERM; sending SIGKILL"
            kill -9 "$pid"
        fi
        log "$1 (pid $pid) stopped"
    fi
    rm -f "$file"
}

cmd=${1:-start}
case $cmd in
    start)
        require_root_and_tools
        install -d -m 755 "$STATE_DIR"
        start_munge
        start_slurm
        ;;
    stop)
        stop_one slurmd
        stop_one slurmctld
        stop_one munged
        # Without a controller, SLURM's commands with this config wait for one: `scontrol show
        # config` (which the Snakemake SLURM plugin runs at every start) for 9-10 s. Remove the
        # config this script wrote once no slurmctld runs; `start` writes it again.
        if [[ -e $CONF && -z $(live_pid "$CTLD_PIDFILE") ]] && conf_written_here; then
            rm -f "$CONF"
            log "removed $CONF"
        fi
        ;;
    status)
        for name in munged slurmctld slurmd; do
            echo "$name: $(cat "$STATE_DIR/$name.pid" 2>/dev/null || echo 'not started here')"
        done
        sinfo || true
        ;;
    *)
        die "usage: $0 [start|stop|status]"
        ;;
esac
