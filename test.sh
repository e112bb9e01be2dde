#!/usr/bin/env bash
# Runs every test with the race detector. Needs only Go: modules are fetched on first use.
set -euo pipefail
cd "$(dirname "$0")"
# The PostgreSQL tests run when STORIFY_TEST_POSTGRES names a database; a server on
# this machine's default port is used when it answers.
if [ -z "${STORIFY_TEST_POSTGRES:-}" ] && command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  export STORIFY_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
fi
go test -race -count=1 ./... "$@"
