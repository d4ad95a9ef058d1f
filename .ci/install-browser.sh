#!/usr/bin/env bash
# Installs what .ci/browser/axe-check.mjs needs: Debian's chromium, a CJK
# font (so Chinese pages render in screenshots) and the pinned npm packages.
# Idempotent; only touches apt when something is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-browser: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cd "$here/browser"
# npm ci wipes node_modules each time; skip it when the lockfile is unchanged.
stamp=node_modules/.civitas-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
fi
