#!/usr/bin/env bash
# Install Debian packages only when absent: scripts/apt_ensure.sh pkg…  (apt-get update only if needed)
set -euo pipefail
missing=()
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "==> not a Debian system: please make sure these are installed: $*" >&2
  exit 0
fi
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "==> installing Debian packages: ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "ERROR: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
