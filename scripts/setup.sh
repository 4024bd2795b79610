#!/usr/bin/env bash
# Installs what SocksDeck's tests and demo need on Debian (run as root, or with sudo):
# Dante (the reference SOCKS5 server), microsocks (a server without UDP), gcc for the C API
# tests, python3 for the demo's echo target; then the test user Dante's RFC 1929 checks.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v danted >/dev/null || need+=(dante-server)
command -v microsocks >/dev/null || need+=(microsocks)
command -v gcc >/dev/null || need+=(gcc)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  echo "installed: ${need[*]}"
fi
if [ "$(id -u)" = 0 ]; then sh peers/ensure-test-user.sh; else sudo sh peers/ensure-test-user.sh; fi
