#!/usr/bin/env bash
# Load test: the release newsroom under wrk (Debian's package), pages and the
# API for 30 s at 64 connections, on SQLite and (when TACK_TEST_POSTGRES names
# a server) on PostgreSQL. Fails on any socket error or 5xx answer.
#
#   bash scripts/load.sh            # 30 s per database
#   LOAD_SECONDS=10 bash scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${LOAD_SECONDS:-30}"
connections="${LOAD_CONNECTIONS:-64}"
port="${LOAD_PORT:-8799}"

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p newsroom
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Each thread walks the paths in turn; every answer's status is counted.
cat > "$work/paths.lua" <<'LUA'
local paths = {"/", "/articles/rust-newsroom/", "/articles/tides-rise/", "/api/articles/",
               "/api/articles/?status=published&ordering=-published_at",
               "/api/comments/?article=1", "/api/openapi.json", "/static/css/site.css"}
local i = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() server_errors = 0 end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Host"] = "localhost"})
end
function response(status) if status >= 500 then server_errors = server_errors + 1 end end
function done()
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("server_errors") end
  io.write(string.format("5xx answers: %d\n", total))
end
LUA

failed=0
run() {
    local name="$1" url="$2"
    echo "==> $name: $url"
    DATABASE_URL="$url" NEWSROOM_ADDR="127.0.0.1:$port" NEWSROOM_LOG=error \
        NEWSROOM_SECRET_KEY="load-test-secret-key-that-is-long-enough-0123456789" \
        ./target/release/newsroom > "$work/$name.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
    wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/paths.lua" "http://127.0.0.1:$port" | tee "$work/$name.out"
    kill "$server"
    wait "$server" 2>/dev/null || true
    if grep -q "Socket errors" "$work/$name.out"; then
        echo "FAIL: $name: socket errors" >&2
        failed=1
    fi
    if ! grep -q "^5xx answers: 0$" "$work/$name.out"; then
        echo "FAIL: $name: 5xx answers" >&2
        failed=1
    fi
}

run sqlite "sqlite://$work/load.sqlite3"
if [ -n "${TACK_TEST_POSTGRES:-}" ]; then
    schema="load_$$"
    psql "$TACK_TEST_POSTGRES" -q -c "CREATE SCHEMA $schema" >/dev/null
    run postgres "$TACK_TEST_POSTGRES?options=-c%20search_path%3D$schema"
    PGOPTIONS="--client-min-messages=warning" psql "$TACK_TEST_POSTGRES" -q -c "DROP SCHEMA $schema CASCADE" >/dev/null
else
    echo "TACK_TEST_POSTGRES is unset: PostgreSQL skipped"
fi
exit "$failed"
