#!/usr/bin/env bash
# npm run bench:cluster: a throwaway PostgreSQL 15 and one-node Slurm cluster (as test.sh), then
# bench/cluster-overhead.ts against them; both are torn down afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() { bash tools/cluster/slurm.sh down "$tmp/slurm" || true; bash tools/cluster/pg.sh down "$tmp/pg"; rm -rf "$tmp"; }
trap cleanup EXIT
url=$(bash tools/cluster/pg.sh up "$tmp/pg" "$((20000 + RANDOM % 20000))")
conf=$(bash tools/cluster/slurm.sh up "$tmp/slurm" "$((40000 + RANDOM % 10000))")
npm run build >/dev/null
SLURM_CONF=$conf EXP_BENCH_PG_DIR=$tmp/pg node --import tsx bench/cluster-overhead.ts "$url"
