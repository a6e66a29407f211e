#!/usr/bin/env bash
# Install what `make run` (deps.sh run), `make test` (deps.sh test) or
# `make bench` (deps.sh bench) needs and the machine lacks. As root it
# installs Debian packages with apt-get; otherwise it prints the exact
# command and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-run}
pkgs=(gcc make pkg-config libmicrohttpd-dev libvips-dev libsqlite3-dev
      libcurl4-openssl-dev libssl-dev libsodium-dev libjansson-dev
      fonts-dejavu-core)
case "$what" in
    run) ;;
    test) pkgs+=(libcmocka-dev libvips-tools chromium nodejs npm procps
                clang libclang-rt-14-dev openssl) ;;
    bench) pkgs+=(libcmocka-dev nodejs npm nginx wrk imagemagick procps
                  hyperfine wamerican sqlite3) ;;
    *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    # node may come from another Debian build of nodejs that also ships npm.
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "Missing Debian packages. Run as root:" >&2
        echo "  $cmd" >&2
        exit 1
    fi
    echo "Installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

# Browser tests drive Debian's Chromium with playwright-core from npm; the
# npm package never downloads a browser of its own.
if [ "$what" != run ]; then
    if [ ! -d tests/browser/node_modules/playwright-core ]; then
        echo "Installing npm packages for tests/browser"
        (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
            npm ci --no-audit --no-fund --loglevel=error)
    fi
    # The S3 stand-in: s3rver behind a signature-checking front, from the
    # lockfile into a git-ignored node_modules.
    if [ ! -d tests/services/s3/node_modules/s3rver ]; then
        echo "Installing npm packages for tests/services/s3"
        (cd tests/services/s3 && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
# The SMTP stand-in of the mail tests: smtp-server and mailparser.
if [ "$what" = test ] && [ ! -d tests/services/smtp/node_modules/smtp-server ]; then
    echo "Installing npm packages for tests/services/smtp"
    (cd tests/services/smtp && npm ci --no-audit --no-fund --loglevel=error)
fi

# Stand-ins for outside services (tests/services/NAME), each with its own
# lockfile; installed again when the lockfile is newer than the install.
if [ "$what" != run ]; then
    for d in tests/services/*/; do
        [ -f "$d/package-lock.json" ] || continue
        if [ ! -d "$d/node_modules" ] ||
            [ "$d/package-lock.json" -nt "$d/node_modules" ]; then
            echo "Installing npm packages for $d"
            (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
        fi
    done
fi
