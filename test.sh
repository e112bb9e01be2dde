#!/usr/bin/env bash
# Runs every test with the race detector. Needs only Go: modules are fetched on first use.
set -euo pipefail
cd "$(dirname "$0")"
go test -race -count=1 ./... "$@"
