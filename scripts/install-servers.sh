#!/usr/bin/env bash
# Install the servers `cimops sandbox` runs, from Debian packages, when they are missing:
# nats-server, prometheus, prometheus-alertmanager. Idempotent; prints nothing when all is well.
set -euo pipefail

packages=(nats-server prometheus prometheus-alertmanager)

# Where each package puts its binary (findServerBinary in src/lib/sandbox/binaries.ts looks there too).
debian_path() {
  case "$1" in
    nats-server) echo /usr/sbin/nats-server ;;
    prometheus) echo /usr/bin/prometheus ;;
    prometheus-alertmanager) echo /usr/bin/prometheus-alertmanager ;;
  esac
}

# Default ports of the system services a package's postinst might start (the sandbox uses free ports).
default_port() {
  case "$1" in
    nats-server) echo 4222 ;;
    prometheus) echo 9090 ;;
    prometheus-alertmanager) echo 9093 ;;
  esac
}

installed() {
  [ -x "$(debian_path "$1")" ] || command -v "$1" >/dev/null 2>&1
}

fail() {
  echo "install-servers: cannot install ${missing[*]}: $1" >&2
  exit 1
}

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 ||
  fail "apt-get not found (not Debian or Ubuntu); install them with your package manager"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  fail "not root and sudo is not available; as root run: apt-get install ${missing[*]}"
fi

# Quiet on success: apt's output is shown only when it fails.
apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT
if ! { "${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
  tail -n 20 "$apt_log" >&2
  fail "apt-get failed (output above)"
fi

for package in "${missing[@]}"; do
  installed "$package" || fail "apt-get finished but $(debian_path "$package") is still missing"
done

# The sandbox never needs the packages' own services; say so if one came up on its default port.
for package in "${missing[@]}"; do
  port=$(default_port "$package")
  if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
    echo "install-servers: warning: something listens on 127.0.0.1:$port, probably the $package system service started by its package; cimops sandbox does not need it (stop it, e.g. sudo systemctl disable --now $package)" >&2
  fi
done
