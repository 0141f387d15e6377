#!/usr/bin/env bash
# Make the real server binaries of the servers tier (tests/servers) available:
# Debian's redis-server and redis-cli, and the PostgreSQL server (initdb,
# postgres, pg_ctl, pg_isready, psql). Quick and silent on apt when they are
# already there. Prints the PostgreSQL bin directory (for PATH) on stdout;
# everything else goes to stderr.
#
#   hack/install-servers.sh
#
# As root the missing Debian packages are installed without starting their
# services. Otherwise a missing package is one line on stderr and exit 1.
#   APT_TIMEOUT  seconds allowed for each apt-get run (default 600)
set -euo pipefail

apt_timeout="${APT_TIMEOUT:-600}"

# The newest /usr/lib/postgresql/<major>/bin that holds a server, or nothing.
pg_bindir() {
  local dir best="" best_major=0 major
  for dir in /usr/lib/postgresql/*/bin; do
    major=$(basename "$(dirname "$dir")")
    case "$major" in *[!0-9]*|"") continue ;; esac
    if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ] && [ "$major" -gt "$best_major" ]; then
      best_major=$major
      best=$dir
    fi
  done
  printf '%s' "$best"
}

have_redis() { command -v redis-server >/dev/null && command -v redis-cli >/dev/null; }
have_postgres() {
  local dir
  dir=$(pg_bindir)
  [ -n "$dir" ] && [ -x "$dir/pg_isready" ] && command -v psql >/dev/null
}

packages=()
have_redis || packages+=(redis-server)
have_postgres || packages+=(postgresql)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-servers: missing server binaries; install the Debian packages: ${packages[*]}" >&2
    exit 1
  fi
  command -v apt-get >/dev/null || {
    echo "install-servers: no apt-get here; install redis-server and the PostgreSQL server by hand" >&2
    exit 1
  }

  # invoke-rc.d asks policy-rc.d whether a service may start: 101 says no, so
  # no system redis or postgres is left listening on 6379/5432. An existing
  # policy (a container image's) is left as it is.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
  fi
  cleanup() { if $own_policy; then rm -f "$policy"; fi; }
  trap cleanup EXIT

  install() {
    DEBIAN_FRONTEND=noninteractive timeout "$apt_timeout" \
      apt-get install -y --no-install-recommends "${packages[@]}" >&2
  }
  echo "install-servers: installing ${packages[*]}" >&2
  if ! install; then
    # Most often the package lists are missing (a slim image): fetch them once and retry.
    echo "install-servers: install failed; updating the package lists and retrying" >&2
    DEBIAN_FRONTEND=noninteractive timeout "$apt_timeout" apt-get update >&2
    install
  fi

  have_redis || { echo "install-servers: redis-server/redis-cli still missing after the install" >&2; exit 1; }
  have_postgres || { echo "install-servers: PostgreSQL server still missing after the install" >&2; exit 1; }
fi

pg_bindir
echo
