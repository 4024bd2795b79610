#!/usr/bin/env bash
# Installs what SocksDeck's build, tests and demo need on Debian (run as root, or with sudo):
# (also libpcap-dev, which the build needs, and tshark and tcpdump for the capture tests)
# (also v2ray, hpsockd, asyncio-socks-server and sockslib: more real servers and a client)
# Dante (the reference SOCKS5 server), microsocks (a server without UDP), gcc for the C API
# tests, python3; the real clients the built-in relay is checked with: PySocks (PyPI), Dante's
# socksify (dante-client) with socat, and curl; ncursesw and tmux for the terminal UI and its
# tests; shadowsocks-libev (ss-local, a SOCKS5 front with quirks) for the probe's tests; then
# with --test-user, the test user Dante's RFC 1929 checks.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v danted >/dev/null || need+=(dante-server)
command -v microsocks >/dev/null || need+=(microsocks)
command -v gcc >/dev/null || need+=(gcc)
command -v python3 >/dev/null || need+=(python3 python3-pip)
command -v socksify >/dev/null || need+=(dante-client)
command -v socat >/dev/null || need+=(socat)
command -v curl >/dev/null || need+=(curl)
command -v tmux >/dev/null || need+=(tmux)
command -v ss-local >/dev/null || need+=(shadowsocks-libev)
# More servers of the field, each with a UDP behaviour the others lack (peers/README.md): v2ray
# (cuts datagrams to 2,048 bytes) and hpsockd (replies only to the declared address).
command -v v2ray >/dev/null || need+=(v2ray)
[ -x /usr/sbin/hpsockd ] || need+=(hpsockd)
# The internet's UDP services, offline on loopback, for `socksdeck check`:
# coturn's turnserver (STUN, RFC 5780), dnsmasq (DNS) and chronyd (NTP). Installing starts none.
command -v turnserver >/dev/null || need+=(coturn)
[ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
[ -x /usr/sbin/chronyd ] || need+=(chrony)
# dig, the application `socksdeck forward` is tested with (DNS through a proxy).
command -v dig >/dev/null || need+=(bind9-dnsutils)
# Two real SOCKS5 fronts that refuse UDP ASSOCIATE (issue 29): OpenSSH's ssh -D, through an sshd
# the test starts on loopback, and tor, which the test runs in a network namespace of its own
# (unshare -n, ip) so that it reaches nothing. Installing must start neither (policy-rc.d below).
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
[ -x /usr/sbin/tor ] || command -v tor >/dev/null || need+=(tor)
command -v ip >/dev/null || need+=(iproute2)
# A real QUIC server for `check --quic` (ngtcp2's gtlsserver) and openssl for its test certificate.
[ -x /usr/sbin/gtlsserver ] || command -v gtlsserver >/dev/null || need+=(ngtcp2-server)
command -v openssl >/dev/null || need+=(openssl)
# Captures (issue 15): libpcap-dev to build the replay's reader (libpcap reads any pcap/pcapng and
# compiles BPF filters), tshark (Wireshark's dissectors) to read SocksDeck's captures back in the
# tests, tcpdump to make the real capture the replay test sends again.
[ -e /usr/include/pcap/pcap.h ] || need+=(libpcap-dev)
command -v tshark >/dev/null || need+=(tshark)
command -v tcpdump >/dev/null || [ -x /usr/sbin/tcpdump ] || need+=(tcpdump)
# ncursesw for the terminal UI (libncursesw5-dev is Debian's transitional name for libncurses-dev).
[ -e /usr/include/ncursesw/curses.h ] || [ -e /usr/include/ncurses.h ] || need+=(libncursesw5-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # No service a package installs may start (tor would go to the Tor network, sshd listen on
  # port 22): policy-rc.d answers 101, "not allowed", to every start; removed afterwards if ours.
  policy=/usr/sbin/policy-rc.d; ours=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null; $SUDO chmod +x "$policy"; ours=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  [ -z "$ours" ] || $SUDO rm -f "$policy"
  echo "installed: ${need[*]}"
fi
if ! python3 -c "import socks" 2>/dev/null; then
  # A Debian system Python refuses pip installs (PEP 668) unless told; PySocks is one pure module.
  python3 -m pip install -q --disable-pip-version-check pysocks 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages pysocks 2>/dev/null || true
fi
python3 -c "import socks" || { echo "PySocks did not install (pip install pysocks)" >&2; exit 1; }
# asyncio-socks-server (a server whose relay is IPv4-only behind BND 0.0.0.0) and sockslib (a UDP
# client) are real peers of the tests, from PyPI.
pipx() { python3 -m pip install -q --disable-pip-version-check "$@" 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@" 2>/dev/null || true; }
command -v asyncio_socks_server >/dev/null || pipx asyncio-socks-server
python3 -c "import sockslib" 2>/dev/null || pipx sockslib
command -v asyncio_socks_server >/dev/null || { echo "asyncio-socks-server did not install (pip install asyncio-socks-server)" >&2; exit 1; }
# prometheus_client's parser reads `socksdeck watch --metrics` output in the tests.
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check prometheus_client 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check --break-system-packages prometheus_client 2>/dev/null || true
# promtool checks and unit-tests the Prometheus alerting rules in monitoring/ and lints the
# metrics `watch` exports. Debian ships it in the prometheus package, which would also install
# and start a Prometheus server listening on every interface: only promtool is taken from it.
if ! command -v promtool >/dev/null; then
  dir=$(mktemp -d)
  (cd "$dir" && apt-get download prometheus >/dev/null 2>&1 \
    || { ${SUDO:-} apt-get update -qq && apt-get download prometheus >/dev/null 2>&1; }) || true
  if ls "$dir"/prometheus_*.deb >/dev/null 2>&1; then
    dpkg-deb -x "$dir"/prometheus_*.deb "$dir/x"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO install -m 0755 "$dir/x/usr/bin/promtool" /usr/local/bin/promtool
    echo "installed: promtool (from Debian's prometheus package)"
  fi
  rm -rf "$dir"
fi
command -v promtool >/dev/null || { echo "promtool did not install (apt-get download prometheus)" >&2; exit 1; }
# Only for the tests (--test-user): a local nologin user with a known password, which Dante's
# RFC 1929 checks log in as. Never made by default: it is not something a workstation wants.
if [ "${1:-}" = --test-user ]; then
  if [ "$(id -u)" = 0 ]; then sh peers/ensure-test-user.sh; else sudo sh peers/ensure-test-user.sh; fi
fi
