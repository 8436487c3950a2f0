#!/usr/bin/env bash
# Installs the Debian packages huanjie needs when they are missing (machines run as root;
# elsewhere run this script with sudo). Nothing is downloaded outside Debian's archive.
set -euo pipefail
needed=()
for pkg in ${HUANJIE_DEBIAN_PACKAGES:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "需要安装系统软件包：${needed[*]}（请以 root 运行 scripts/system-packages.sh）" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}"
