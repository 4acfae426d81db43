#!/usr/bin/env bash
# npm run test:cluster: starts a throwaway PostgreSQL 15 (tools/cluster/pg.sh), runs
# test/cluster/*.test.ts against it, and tears it down. Needs Debian's postgresql package
# (.ci/run installs it). Fails, never skips, when the server cannot start.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
chmod 755 "$tmp"   # the server runs as the postgres user and must reach its directory
port=${EXP_TEST_PG_PORT:-$((20000 + RANDOM % 20000))}
cleanup() { bash tools/cluster/pg.sh down "$tmp/pg"; rm -rf "$tmp"; }
trap cleanup EXIT
url=$(bash tools/cluster/pg.sh up "$tmp/pg" "$port")
echo "cluster tests: PostgreSQL at $url"
npm run build >/dev/null
EXP_TEST_PG_URL=$url EXP_TEST_PG_DIR=$tmp/pg node --import tsx --test --test-concurrency=1 test/cluster/*.test.ts
