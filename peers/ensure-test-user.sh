#!/bin/sh
# Creates the local system user that the username/password Dante checks RFC 1929 logins against
# (peers/dante/sockd-userpass.conf). Test-only credentials: socksuser / sockspass by default.
# Dante checks the password with crypt() on every handshake; Debian's default yescrypt costs
# ~15 ms per login, so the test user gets a cheap SHA-512 hash (1000 rounds, ~0.8 ms).
set -eu
USER_NAME=${DANTE_USER:-socksuser}
USER_PASS=${DANTE_PASS:-sockspass}
if [ "$(id -u)" != 0 ]; then
  id "$USER_NAME" >/dev/null 2>&1 && exit 0
  echo "user $USER_NAME is missing and only root can create it (sudo $0)" >&2; exit 1
fi
id "$USER_NAME" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$USER_NAME"
echo "$USER_NAME:$USER_PASS" | chpasswd -c SHA512 -s 1000
