#!/usr/bin/env bash
# The servers `cimops sandbox` runs (nats-server, prometheus, prometheus-alertmanager), from Debian packages.
#
#   bash scripts/install-servers.sh                  Debian 12's packages, installed when missing (the default)
#   bash scripts/install-servers.sh trixie unstable  also the newest packages of those Debian suites, fetched
#                                                    into a cache, never installed (debian12 names the default)
#
# A fetched suite lands in ${XDG_CACHE_HOME:-~/.cache}/cimops/servers/<package>-<version>/ (unpacked with
# `dpkg-deb -x`) and <suite>.json there records which versions belong to it, for CIMOPS_SERVERS=<suite>.
# apt runs with its own sources list, lists and cache under cimops/apt/<suite>/: the machine's apt state is
# untouched. The mirror is the machine's own (its Debian archive in /etc/apt), or CIMOPS_DEBIAN_MIRROR.
# Idempotent; prints nothing when all is well.
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

die() {
  echo "install-servers: $*" >&2
  exit 1
}

# Runs a command quietly: its output is shown only when it fails.
quietly() {
  local log status=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || status=$?
  [ "$status" -eq 0 ] || tail -n 20 "$log" >&2
  rm -f "$log"
  return "$status"
}

installed() {
  [ -x "$(debian_path "$1")" ] || command -v "$1" >/dev/null 2>&1
}

install_debian12() {
  local missing=() package as_root=()
  for package in "${packages[@]}"; do
    installed "$package" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0

  command -v apt-get >/dev/null 2>&1 ||
    die "cannot install ${missing[*]}: apt-get not found (not Debian or Ubuntu); install them with your package manager"
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "cannot install ${missing[*]}: not root and sudo is not available; as root run: apt-get install ${missing[*]}"
    as_root=(sudo)
  fi
  quietly "${as_root[@]}" apt-get update -qq &&
    quietly "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    die "cannot install ${missing[*]}: apt-get failed (output above)"

  for package in "${missing[@]}"; do
    installed "$package" || die "apt-get finished but $(debian_path "$package") is still missing"
  done
  # The sandbox never needs the packages' own services; say so if one came up on its default port.
  local port
  for package in "${missing[@]}"; do
    port=$(default_port "$package")
    if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      echo "install-servers: warning: something listens on 127.0.0.1:$port, probably the $package system service started by its package; cimops sandbox does not need it (stop it, e.g. sudo systemctl disable --now $package)" >&2
    fi
  done
}

# The machine's Debian archive: the URI of its sources entry for its own release (not -security or -updates,
# not a third-party repository), deb822 files first, then one-line sources.list entries.
debian_mirror() {
  if [ -n "${CIMOPS_DEBIAN_MIRROR:-}" ]; then
    echo "$CIMOPS_DEBIAN_MIRROR"
    return
  fi
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  local files=(/etc/apt/sources.list.d/*.sources)
  [ -e "${files[0]}" ] && awk -v codename="$codename" '
    function flush() { if (deb && mine && uri != "") { print uri; found = 1; exit } deb = mine = 0; uri = "" }
    /^[[:space:]]*$/ { flush(); next }
    /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == codename) mine = 1 }
    END { if (!found) flush() }
  ' "${files[@]}" | head -n 1 | grep . && return
  local lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  awk -v codename="$codename" '
    $1 != "deb" { next }
    { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++ }
    $(i + 1) == codename { print $i; exit }
  ' "${lists[@]}" 2>/dev/null | head -n 1 | grep .
}

# apt-get/apt-cache confined to the suite's own directory: its sources, lists, cache and an empty dpkg
# status (so the machine's installed packages do not change which version is the candidate).
suite_apt() {
  local tool=$1
  shift
  "$tool" -q -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
    -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Dir::State::status="$apt_dir/status" \
    -o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=srcpkgcache.bin -o Debug::NoLocking=true -o APT::Sandbox::User="$(id -un)" "$@"
}

candidate_version() {
  suite_apt apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ && !version { version = $2 } END { print version }'
}

# Every package a suite's record names is unpacked in the cache.
recorded_unpacked() {
  local record=$1 servers_dir=$2 pair
  [ -f "$record" ] || return 1
  for pair in $(grep -o '"[^"]*": "[^"]*"' "$record" | grep -v '"suite"' | sed 's/"\([^"]*\)": "\([^"]*\)"/\1-\2/'); do
    [ -d "$servers_dir/$pair" ] || return 1
  done
}

fetch_suite() {
  local suite=$1
  local apt_dir="$cache_dir/apt/$suite" servers_dir="$cache_dir/servers"
  local record="$servers_dir/$suite.json" stamp="$apt_dir/updated"

  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 ||
    die "cannot fetch $suite's servers: needs apt-get and dpkg-deb (Debian or Ubuntu)"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$servers_dir"
  touch "$apt_dir/status"
  # Lists younger than a day are current enough: the suite's newest releases do not change by the hour.
  local fresh
  fresh=$(find "$stamp" -mmin -1440 2>/dev/null || true)
  [ -n "$fresh" ] && recorded_unpacked "$record" "$servers_dir" && return 0
  if [ -z "$fresh" ]; then
    local mirror
    mirror=$(debian_mirror) || die "cannot fetch $suite's servers: found no Debian archive in /etc/apt; set CIMOPS_DEBIAN_MIRROR to a Debian mirror's URI"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt_dir/sources.list"
    quietly suite_apt apt-get update || die "cannot fetch $suite's servers: apt-get update failed (output above)"
    touch "$stamp"
  fi

  local wanted=("${packages[@]}") package version dir deb entries=()
  # Where promtool is a package of its own (trixie, unstable), prometheus alone lacks it.
  [ -n "$(candidate_version promtool)" ] && wanted+=(promtool)
  for package in "${wanted[@]}"; do
    version=$(candidate_version "$package")
    [ -n "$version" ] || die "cannot fetch $suite's servers: $suite has no package $package"
    # Debian's file names leave out the epoch; so does the cache.
    dir="$servers_dir/$package-${version#*:}"
    if [ ! -d "$dir" ]; then
      rm -f "$apt_dir/debs/${package}_"*.deb
      (cd "$apt_dir/debs" && quietly suite_apt apt-get download "$package=$version") ||
        die "cannot fetch $suite's $package $version: apt-get download failed (output above)"
      deb=$(echo "$apt_dir/debs/${package}_"*.deb)
      # Unpacked beside, then renamed: a half-unpacked package is never taken for a complete one.
      rm -rf "$dir.partial"
      dpkg-deb -x "$deb" "$dir.partial" || die "cannot unpack $deb"
      mv "$dir.partial" "$dir"
      rm -f "$deb"
    fi
    entries+=("\"$package\": \"${version#*:}\"")
  done

  local json
  json=$(printf '{"suite": "%s", "packages": {%s}}' "$suite" "$(IFS=,; echo "${entries[*]}" | sed 's/,/, /g')")
  [ -f "$record" ] && [ "$(cat "$record")" = "$json" ] && return 0
  echo "$json" >"$record.partial"
  mv "$record.partial" "$record"
}

cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/cimops"
suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(debian12)
for suite in "${suites[@]}"; do
  case "$suite" in
    debian12) install_debian12 ;;
    trixie | unstable) fetch_suite "$suite" ;;
    *) die "unknown server set $suite: choose debian12 (installed), trixie or unstable (fetched into $cache_dir/servers)" ;;
  esac
done
