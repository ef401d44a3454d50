#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server: initdb into a temp dir, a free port on
# 127.0.0.1, TEST_DATABASE_URL exported for the command, the server stopped and removed afterwards.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found (install the postgresql package)" >&2; exit 1; }
datadir=$(mktemp -d /tmp/facilitator-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$datadir"
cleanup() { as_pg "$bindir/pg_ctl" -D "$datadir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$datadir"; }
trap cleanup EXIT
as_pg "$bindir/initdb" -D "$datadir/data" -U facilitator --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w \
  -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U facilitator facilitator_test
export TEST_DATABASE_URL="postgresql+psycopg://facilitator@127.0.0.1:$port/facilitator_test"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
