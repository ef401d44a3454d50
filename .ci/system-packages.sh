#!/usr/bin/env bash
# Install the Debian packages the app and its tests need, if any are missing (idempotent, quiet).
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-dejavu-extra
          poppler-utils qpdf chromium postgresql redis-server nginx-light logrotate)  # the last two: docs/deploy.md's samples
[ "${1:-}" = "--runtime" ] && packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# axe-core for the accessibility checks comes from npm; any node/npm will do (Debian's or another).
[ "${1:-}" != "--runtime" ] && ! command -v npm >/dev/null 2>&1 && missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
