#!/bin/sh
# Start Redis with this pod's password and memory bound, neither of which may
# appear on a command line (`ps`, /proc/<pid>/cmdline) or in the environment:
#
# - the password is read from the mounted Secret (redis-credentials, key
#   password) into /run/redis/runtime.conf, a memory-backed volume that only
#   the redis user can read;
# - maxmemory is 70 % of the container's memory limit (REDIS_MEMORY_LIMIT_MIB,
#   from the downward API), so the limit is the one place that sets both. The
#   rest is headroom outside Redis's own accounting: the copy-on-write pages of
#   the child that rewrites the append-only file, client buffers, fragmentation.
#
# Arguments are passed on to redis-server after the configuration file.
set -eu

password_file=/run/secrets/redis/password
runtime=/run/redis/runtime.conf

# (The command substitution drops trailing newlines: a file holding only a
# newline is as empty as a missing one.)
auth=$(cat "$password_file" 2>/dev/null || true)
if [ -z "$auth" ]; then
  echo "start.sh: no Redis password in $password_file, or it cannot be read (Secret redis-credentials, key password)" >&2
  exit 1
fi
# Characters that need no quoting in redis.conf nor escaping in REDIS_URL.
case "$auth" in
  *[!A-Za-z0-9._~-]*)
    echo "start.sh: the Redis password may hold only A-Z a-z 0-9 . _ ~ - (see docs/deployment.md)" >&2
    exit 1 ;;
esac
# A plain decimal: no leading zero (shell arithmetic would read it as octal) and
# at most 9 digits (no overflow below).
case "${REDIS_MEMORY_LIMIT_MIB:-}" in
  '' | *[!0-9]* | 0* | ??????????*)
    echo "start.sh: REDIS_MEMORY_LIMIT_MIB must be the container's memory limit in MiB" >&2
    exit 1 ;;
esac
maxmemory=$((REDIS_MEMORY_LIMIT_MIB * 70 / 100))
# maxmemory 0 would mean no bound at all.
if [ "$maxmemory" -lt 1 ]; then
  echo "start.sh: a memory limit of ${REDIS_MEMORY_LIMIT_MIB}Mi leaves Redis no room: raise it" >&2
  exit 1
fi

umask 077
# printf is a shell builtin: the password is never an argument of a process.
printf 'requirepass %s\nmaxmemory %smb\n' "$auth" "$maxmemory" >"$runtime"
unset auth

exec redis-server /etc/redis/redis.conf "$@"
