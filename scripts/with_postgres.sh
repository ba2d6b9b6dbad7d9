#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#   scripts/with_postgres.sh [--optional] <command> [args…]
# initdb into a fresh temporary folder (as user postgres when run as root), start the server on a free
# loopback port with its unix socket in that folder, create a user and database, export DATABASE_URL,
# run the command, then stop the server and delete the folder — also when the command fails.
# With --optional, a machine without PostgreSQL server binaries prints why and exits 0 without running.
set -euo pipefail

optional=0
if [[ "${1:-}" == "--optional" ]]; then optional=1; shift; fi
[[ $# -gt 0 ]] || { echo "usage: $0 [--optional] command [args…]" >&2; exit 2; }

pgbin="${PG_BIN:-}"
if [[ -z "$pgbin" ]]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then pgbin="$d"; break; fi
  done
fi
if [[ -z "$pgbin" ]]; then
  echo "=== PostgreSQL: no server binaries found (/usr/lib/postgresql/*/bin/initdb)." >&2
  if (( optional )); then
    echo "=== SKIPPING the PostgreSQL run (install postgresql to include it)." >&2
    exit 0
  fi
  exit 1
fi

as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || { echo "running as root needs the 'postgres' user to own the server" >&2; exit 1; }
  as_pg=(runuser -u postgres --)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/linjialin-pg.XXXXXX")
started=0
cleanup() {
  local code=$?
  if (( started )); then
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[[ ${#as_pg[@]} -gt 0 ]] && chown postgres: "$tmp"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
echo "$password" > "$tmp/pwfile"
[[ ${#as_pg[@]} -gt 0 ]] && chown postgres: "$tmp/pwfile"

"${as_pg[@]}" "$pgbin/initdb" -D "$tmp/data" -U postgres --pwfile="$tmp/pwfile" -A scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
# Throwaway cluster: durability off for speed; loopback and the private socket folder only.
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 start -o \
  "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c max_connections=100" >/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
started=1

export PGPASSWORD="$password"
"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE linjialin LOGIN CREATEDB PASSWORD '$password'" \
  -c "CREATE DATABASE linjialin OWNER linjialin"
unset PGPASSWORD

export DATABASE_URL="postgres://linjialin:$password@127.0.0.1:$port/linjialin"
echo "=== PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (cluster in $tmp)"
set +e
"$@"
code=$?
set -e
exit $code
