#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the cluster tests: `pg.sh up DIR PORT` prints its URL,
# `pg.sh down DIR` stops it (the directory can then be deleted). Debian's postgresql package;
# initdb refuses root, so the server runs as the postgres user (docs/cluster.md, "Testing").
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg.sh up DIR PORT | down DIR | restart DIR}
dir=${2:?data directory}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  up)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    # Local connections are trusted, except for the role exp_dml, which must give its password
    # (scram): the tests that check how a password reaches workers log in as it.
    sed -i '1i host all exp_dml 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
    echo "$port" >"$dir/port"
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null
    as_pg "$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres exp
    echo "postgres://postgres@127.0.0.1:$port/exp"
    ;;
  restart)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w restart >/dev/null
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  start)
    port=$(cat "$dir/port")
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null
    ;;
  down)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
esac
