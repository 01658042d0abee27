# Shared set-up steps for ./scripts/serve and ./scripts/test (sourced, not run).
# Every step checks before it acts, so re-running costs seconds.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m[syncboard]\033[0m %s\n' "$*" >&2; }

# The hash of some files, to know whether a step must run again.
files_hash() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# ensure_python_env FILE...: a venv in .venv with the pinned requirements FILE... installed.
# Each requirements set keeps its own stamp (.deps-<set>-<hash>), so ./scripts/serve
# (requirements.txt) and ./scripts/test (requirements-dev.txt) do not reinstall alternately.
ensure_python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the Python virtual environment in .venv"
    python3 -m venv "$VENV" || {
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv "$VENV"
      else
        say "python3 -m venv failed: install Python 3.11+ with venv support"; return 1
      fi
    }
  fi
  local files=() f
  for f in "$@"; do files+=("$ROOT/$f"); done
  local set_name
  set_name=$(printf '%s+' "$@" | tr '/' '_')
  local stamp="$VENV/.deps-${set_name%+}-$(files_hash "${files[@]}" "$ROOT/requirements.txt")"
  if [ ! -f "$stamp" ]; then
    say "installing Python packages from $*"
    local args=()
    for f in "${files[@]}"; do args+=(-r "$f"); done
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${args[@]}"
    rm -f "$VENV/.deps-${set_name%+}-"* && touch "$stamp"
  fi
}

# ensure_node_packages DIR...: node_modules in each DIR matching its package-lock.json.
ensure_node_packages() {
  local dir
  for dir in "$@"; do
    [ -f "$ROOT/$dir/package.json" ] || continue
    ensure_node
    local stamp="$ROOT/$dir/node_modules/.deps-$(files_hash "$ROOT/$dir/package-lock.json" "$ROOT/$dir/package.json")"
    if [ ! -f "$stamp" ]; then
      say "installing npm packages in $dir"
      (cd "$ROOT/$dir" && npm ci --no-audit --no-fund --loglevel=error)
      touch "$stamp"
    fi
  done
}

ensure_node() {
  command -v npm >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Node.js and npm (Debian packages)"
    apt-get update -qq && apt-get install -y -qq nodejs npm
  else
    say "npm not found: install Node.js 20+ with npm"; return 1
  fi
}

# build_frontend: (re)build frontend/dist when the sources or packages changed.
build_frontend() {
  [ -f "$ROOT/frontend/package.json" ] || return 0
  ensure_node_packages frontend
  local sources
  sources=$(cd "$ROOT" && find frontend -path frontend/node_modules -prune -o -path frontend/dist -prune \
    -o -type f -print | sort; find "$ROOT/shared" -type f | sort)
  local hash
  hash=$(cd "$ROOT" && echo "$sources" | xargs cat 2>/dev/null | sha256sum | cut -c1-16)
  if [ ! -f "$ROOT/frontend/dist/.build-$hash" ]; then
    say "building the browser app (frontend/dist)"
    (cd "$ROOT/frontend" && npm run --silent build)
    rm -f "$ROOT"/frontend/dist/.build-* && touch "$ROOT/frontend/dist/.build-$hash"
  fi
}

# ensure_apt_package BINARY PACKAGE: install a Debian package when root and BINARY is missing.
ensure_apt_package() {
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $2 (Debian package)"
    apt-get update -qq && apt-get install -y -qq "$2"
  else
    say "$1 not found and not root: tests needing it will skip (install $2 to run them)"
  fi
}

# start_local_services: PostgreSQL and Redis on 127.0.0.1 for the tests that use them, when
# they are installed but not running. Tests skip with a reason when they stay unreachable.
start_local_services() {
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      say "starting PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
  fi
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
      && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
  fi
}
