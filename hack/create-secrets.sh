#!/usr/bin/env bash
# Create or update the Secrets that overlays/prod expects, from environment
# variables (see overlays/prod/secrets.env.example). Values are passed to
# kubectl through files readable by the current user only, never on a command
# line, and are never printed.
#
#   hack/create-secrets.sh [--namespace NS] [--dry-run]
set -euo pipefail

namespace=ai-agents
dry_run=false
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="${2:?--namespace needs a value}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "create-secrets: unknown argument: $1" >&2; exit 2 ;;
  esac
done

missing=()
for var in POSTGRES_USER POSTGRES_PASSWORD REDIS_PASSWORD DATABASE_URL REDIS_URL OPENAI_API_KEY; do
  [ -n "${!var:-}" ] || missing+=("$var")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "create-secrets: set these environment variables first: ${missing[*]}" >&2
  exit 2
fi
# Redis reads its password into its configuration (base/redis/config/start.sh), and the
# app reads it from REDIS_URL: both must hold the same value, in characters that need
# no escaping in either place. Never echo a value: name the variable only.
case "$REDIS_PASSWORD" in
  *[!A-Za-z0-9._~-]*)
    echo "create-secrets: REDIS_PASSWORD may hold only A-Z a-z 0-9 . _ ~ -" >&2; exit 2 ;;
esac
if [ ${#REDIS_PASSWORD} -lt 16 ]; then
  echo "create-secrets: REDIS_PASSWORD must be at least 16 characters long" >&2; exit 2
fi
case "$REDIS_URL" in
  "redis://:$REDIS_PASSWORD@"* | "rediss://:$REDIS_PASSWORD@"* | \
  "redis://default:$REDIS_PASSWORD@"* | "rediss://default:$REDIS_PASSWORD@"*) ;;
  *) echo "create-secrets: REDIS_URL must carry REDIS_PASSWORD (redis://:<REDIS_PASSWORD>@host:6379/0)" >&2; exit 2 ;;
esac
command -v kubectl >/dev/null || { echo "create-secrets: kubectl not found on PATH" >&2; exit 2; }

umask 077
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%s' "$POSTGRES_USER" >"$dir/username"
printf '%s' "$POSTGRES_PASSWORD" >"$dir/password"
printf '%s' "$DATABASE_URL" >"$dir/DATABASE_URL"
printf '%s' "$REDIS_URL" >"$dir/REDIS_URL"
printf '%s' "$REDIS_PASSWORD" >"$dir/redis-password"
printf '%s' "$OPENAI_API_KEY" >"$dir/OPENAI_API_KEY"

render() {
  kubectl create secret generic postgresql-credentials --namespace "$namespace" \
    --from-file=username="$dir/username" --from-file=password="$dir/password" \
    --dry-run=client -o yaml
  echo "---"
  kubectl create secret generic redis-credentials --namespace "$namespace" \
    --from-file=password="$dir/redis-password" \
    --dry-run=client -o yaml
  echo "---"
  kubectl create secret generic ai-agents-app --namespace "$namespace" \
    --from-file=DATABASE_URL="$dir/DATABASE_URL" --from-file=REDIS_URL="$dir/REDIS_URL" \
    --from-file=OPENAI_API_KEY="$dir/OPENAI_API_KEY" \
    --dry-run=client -o yaml
}

if $dry_run; then
  # Show the shape, never the values.
  render | awk '/^data:/ {indata=1; print; next} /^[^ ]/ {indata=0}
                indata {sub(/: .*/, ": <redacted>")} {print}'
else
  render | kubectl apply --server-side --field-manager=create-secrets -f -
fi
