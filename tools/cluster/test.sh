#!/usr/bin/env bash
# npm run test:cluster: starts a throwaway PostgreSQL 15 (tools/cluster/pg.sh) and a one-node
# Slurm cluster (tools/cluster/slurm.sh), runs test/cluster/*.test.ts against them, and tears
# both down. Needs Debian's postgresql, slurm-wlm and munge packages and root (.ci/run installs
# them). Fails, never skips, when a service cannot start.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
chmod 755 "$tmp"   # the server runs as the postgres user and must reach its directory
port=${EXP_TEST_PG_PORT:-$((20000 + RANDOM % 20000))}
slurm_port=${EXP_TEST_SLURM_PORT:-$((40000 + RANDOM % 10000))}
cleanup() { bash tools/cluster/slurm.sh down "$tmp/slurm" || true; bash tools/cluster/pg.sh down "$tmp/pg"; rm -rf "$tmp"; }
trap cleanup EXIT
url=$(bash tools/cluster/pg.sh up "$tmp/pg" "$port")
echo "cluster tests: PostgreSQL at $url"
conf=$(bash tools/cluster/slurm.sh up "$tmp/slurm" "$slurm_port")
echo "cluster tests: Slurm ($conf)"
npm run build >/dev/null
# The owner sets the store up once; every other command only checks its schema (least privilege).
node dist/cli/main.js db migrate --db "$url"
files=${EXP_TEST_CLUSTER_FILES:-test/cluster/*.test.ts}
SLURM_CONF=$conf EXP_TEST_PG_URL=$url EXP_TEST_PG_DIR=$tmp/pg node --import tsx --test --test-concurrency=1 "$@" $files
