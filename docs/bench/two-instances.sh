#!/usr/bin/env bash
# Checkouts a second over telnet: one storify instance with 100 customers, then two
# instances on the same PostgreSQL schema with 50 customers each at the same time,
# alternated ROUNDS times (default 4). Every customer buys one unit of one product over
# and over ('add item01 1', 'checkout bench'), as in the compare's checkout step.
# Run from the repository's root:  bash docs/bench/two-instances.sh
# Environment: DB (a postgres:// DSN; default the test database on 127.0.0.1:5432),
# DUR (seconds a step, default 3), ROUNDS, BIN (a storify binary; default built here).
set -euo pipefail
db=${DB:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
dur=${DUR:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/storify-two.XXXXXX")
pids=()
schema=two_$$_$(date +%s)
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  psql -q "$db" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
(cd ../shared/bench && go build -o "$work/bin/" ./cmd/loadgen)
bin=${BIN:-}
if [ -z "$bin" ]; then go build -o "$work/bin/storify" ./cmd/storify; bin=$work/bin/storify; fi
psql -q "$db" -c "CREATE SCHEMA $schema"
dsn="$db&search_path=$schema"
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
pa=$(port); pb=$(port)
mkfifo "$work/a" "$work/b"
"$bin" --db "$dsn" --listen "127.0.0.1:$pa" --name Bench --no-sample --instance a <"$work/a" >"$work/a.out" 2>&1 & pids+=($!)
exec 3>"$work/a"
echo "addproduct item01 1.01 1000000000" >&3
wait_port "$pa"; sleep 0.5
"$bin" --db "$dsn" --listen "127.0.0.1:$pb" --name Bench --no-sample --instance b <"$work/b" >"$work/b.out" 2>&1 & pids+=($!)
exec 4>"$work/b"
wait_port "$pb"; sleep 1
lg() { "$work/bin/loadgen" -d "${dur}s" -send 'add item01 1|checkout bench' -until 'Bench> |Bench> ' -greet 'Bench> ' "$@" | sed -n 's/.*rps=\([^ ]*\).*/\1/p'; }
printf '%8s %8s %6s\n' one two ratio
for _ in $(seq 1 "${ROUNDS:-4}"); do
  one=$(lg -addr "127.0.0.1:$pa" -conns 100)
  lg -addr "127.0.0.1:$pa" -conns 50 >"$work/ra" & l=$!
  lg -addr "127.0.0.1:$pb" -conns 50 >"$work/rb"; wait "$l"
  two=$(python3 -c "print(round(float(open('$work/ra').read()) + float(open('$work/rb').read())))")
  printf '%8s %8s %6s\n' "$one" "$two" "$(python3 -c "print(f'{$two/$one:.2f}')")"
done
echo exit >&3; echo exit >&4; exec 3>&- 4>&-
