#!/usr/bin/env bash
# SocialSync's one entry point: ./build.sh run | test | protos | chaos | bench | token [user-uuid | --identity --email E --password P]
# Each command installs what a fresh Debian 12 + .NET 10 machine lacks (redis-server, PostgreSQL binaries, npm).
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    as_root apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_prerequisites() {
  command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (https://dot.net)." >&2; exit 1; }
  command -v redis-server >/dev/null || apt_install redis-server
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
    apt_install postgresql
  fi
  # The web app's browser tests drive Debian's chromium (Playwright's own browser download needs the internet).
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || apt_install chromium
  # The packaged services are not ours to run: SocialSync starts its own servers on free ports.
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
    as_root systemctl stop redis-server || true
  fi
}

# The benchmark's yardstick: BullMQ on Node, at the versions pinned in the benchmark's package-lock.json.
ensure_bullmq() {
  local dir=tests/SocialSync.Benchmarks/bullmq
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  if [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing BullMQ for the benchmark (npm ci)"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  fi
}

# buf at the version pinned in tools/buf/package-lock.json (npm @bufbuild/buf), installed with npm ci when missing.
buf=tools/buf/node_modules/.bin/buf
ensure_buf() {
  command -v npm >/dev/null || apt_install nodejs npm
  local pinned
  pinned=$(node -p "require('./tools/buf/package.json').devDependencies['@bufbuild/buf']")
  if [ "$("$buf" --version 2>/dev/null)" != "$pinned" ]; then
    log "installing buf $pinned (tools/buf)"
    (cd tools/buf && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Lints protos/ and checks it against the previous commit (protos/README.md: rules, and the Proto-Breaking trailer).
check_protos() {
  ensure_buf
  log "buf lint"
  "$buf" lint protos
  if ! git rev-parse --verify --quiet HEAD~1 >/dev/null 2>&1; then
    log "buf breaking skipped: no previous commit to compare with (first commit, shallow clone or no git history)"
    return
  fi
  # The commits HEAD brings in: HEAD itself, or for a merge also the commits it merges.
  local reasons
  reasons=$(git log --format='%(trailers:key=Proto-Breaking,valueonly)' HEAD~1..HEAD | sed '/^[[:space:]]*$/d')
  if [ -n "$reasons" ]; then
    while IFS= read -r reason; do log "buf breaking skipped, Proto-Breaking: $reason"; done <<<"$reasons"
    return
  fi
  log "buf breaking against the previous commit"
  "$buf" breaking protos --against '.git#ref=HEAD~1,subdir=protos'
}

# Sums every test assembly's "Passed: N, Failed: N" into one closing line.
summarize_tests() {
  local out=$1
  awk '
    /(Passed|Failed)!  - Failed:/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "Failed:")  { f += $(i+1) + 0 }
        if ($i == "Passed:")  { p += $(i+1) + 0 }
        if ($i == "Skipped:") { s += $(i+1) + 0 }
      }
    }
    END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$out"
}

cmd=${1:-help}
shift || true
case "$cmd" in
  run)
    ensure_prerequisites
    log "starting SocialSync (AppHost + dashboard at http://localhost:15080)"
    exec dotnet run --project SocialSync.AppHost --launch-profile http -- "$@"
    ;;
  test)
    ensure_prerequisites
    check_protos
    log "building"
    dotnet build SocialSync.sln -c Debug -nologo -v quiet -warnaserror
    log "running every test"
    out=$(mktemp)
    set +e
    dotnet test SocialSync.sln -c Debug --no-build -nologo "$@" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
    set -e
    summarize_tests "$out"
    rm -f "$out"
    exit "$status"
    ;;
  protos)
    check_protos
    ;;
  chaos)
    ensure_prerequisites
    dotnet build tests/SocialSync.Chaos -c Release -nologo -v quiet
    exec dotnet run --project tests/SocialSync.Chaos -c Release --no-build -- "$@"
    ;;
  bench)
    ensure_prerequisites
    # The soak (--soak), the web app's figures (--studio) and the million-post comparison (--million) run SocialSync
    # alone; only the full benchmark measures BullMQ.
    case " $* " in *" --soak "*|*" --studio "*|*" --million "*) ;; *) ensure_bullmq ;; esac
    dotnet build tests/SocialSync.Benchmarks -c Release -nologo -v quiet
    exec dotnet run --project tests/SocialSync.Benchmarks -c Release --no-build -- "$@"
    ;;
  token)
    # --identity: from the running identity provider (./build.sh run), for a local account (signed up if new).
    if [ "${1:-}" = "--identity" ]; then
      shift
      exec dotnet run --project SocialSync.Identity -v quiet -- token "$@"
    fi
    # Signed with the key the AppHost generated for this machine (kept in its user secrets by ./build.sh run).
    key=$(dotnet user-secrets list --project SocialSync.AppHost 2>/dev/null | sed -n 's/^Parameters:jwt-signing-key = //p')
    if [ -z "$key" ]; then
      echo "no signing key yet: ./build.sh run generates one on its first start" >&2
      exit 1
    fi
    Auth__Users__SigningKey=$key exec dotnet run --project PostsService -v quiet -- mint-token "$@"
    ;;
  *)
    echo "usage: ./build.sh run | test | protos | chaos [--posts N] | bench [--quick | --soak | --studio | --million [--posts N]] | token [user-uuid | --identity --email E --password P [--issuer URL]]" >&2
    exit 2
    ;;
esac
