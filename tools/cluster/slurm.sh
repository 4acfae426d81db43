#!/usr/bin/env bash
# A throwaway one-node Slurm cluster on this machine for the cluster tests (Debian's slurm-wlm
# and munge): `slurm.sh up DIR [PORT]` writes DIR/slurm.conf, starts its own munged (socket in DIR), slurmctld and slurmd on localhost, waits for the node to be idle and prints the
# config path (export SLURM_CONF=... to point sbatch/squeue/scancel at it; the config names this
# cluster's own munged socket); `slurm.sh down DIR`
# stops what `up` started. Runs as root (SlurmUser=root: no cgroups, no accounting database).
set -euo pipefail
cmd=${1:?usage: slurm.sh up DIR [PORT] | down DIR}
dir=${2:?state directory}
case "$cmd" in
  up)
    port=${3:-6817}
    command -v slurmctld >/dev/null || { echo "slurm.sh: slurmctld not found (apt-get install -y slurm-wlm munge)" >&2; exit 1; }
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    dir=$(cd "$dir" && pwd)
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    cat >"$dir/slurm.conf" <<EOF
ClusterName=exptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Short credential lifetime and scheduler intervals: a requeued job restarts in seconds, not minutes.
# This cluster's own munged socket: clusters started side by side (parallel test runs) never share,
# or stop, each other's munged.
AuthInfo=cred_expire=5,socket=$dir/munge/munge.socket.2
SchedulerParameters=bf_interval=1,sched_interval=2
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=600
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF=$dir/slurm.conf
    mkdir -p "$dir/munge" && chown munge:munge "$dir/munge" && chmod 755 "$dir/munge"
    runuser -u munge -- /usr/sbin/munged --socket="$dir/munge/munge.socket.2" --pid-file="$dir/munge/munged.pid" \
      --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
    for _ in $(seq 50); do munge -S "$dir/munge/munge.socket.2" -n 2>/dev/null | unmunge -S "$dir/munge/munge.socket.2" >/dev/null 2>&1 && break; sleep 0.1; done
    slurmctld
    slurmd
    for _ in $(seq 100); do
      state=$(sinfo -h -N -o %t 2>/dev/null || true)
      [ "$state" = idle ] && break
      sleep 0.2
    done
    [ "$state" = idle ] || { echo "slurm.sh: node not idle after 20 s (state: ${state:-none}); see $dir/log" >&2; exit 1; }
    echo "$dir/slurm.conf"
    ;;
  down)
    export SLURM_CONF=$dir/slurm.conf
    # Cancel this cluster's jobs first, so no job step outlives its daemons.
    if [ -f "$dir/slurmctld.pid" ]; then
      for j in $(squeue -h -o %A 2>/dev/null | sort -u); do scancel "$j" 2>/dev/null || true; done
      for _ in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    # Read both pid files first: slurmd deletes its own on exit.
    pids=""
    for f in slurmctld slurmd; do [ -f "$dir/$f.pid" ] && pids="$pids $(cat "$dir/$f.pid")"; done
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
    [ -f "$dir/munge/munged.pid" ] && kill "$(cat "$dir/munge/munged.pid")" 2>/dev/null || true
    ;;
esac
