#!/usr/bin/env bash
# Apply an overlay to the cluster of the current kube context and check that
# the stack comes up: rollouts, Service endpoints, GET /health through a
# port-forward. Prints PASS/FAIL per step; exits 1 if any step failed.
#
#   hack/test-deployment.sh [dev|prod] [--no-apply] [--timeout 300s]
#
# prod expects its Secrets to exist first (hack/create-secrets.sh).
set -uo pipefail

overlay=dev
apply=true
timeout=300s
namespace=ai-agents
while [ $# -gt 0 ]; do
  case "$1" in
    dev|prod) overlay=$1; shift ;;
    --no-apply) apply=false; shift ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test-deployment: unknown argument: $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
command -v kubectl >/dev/null || { echo "test-deployment: kubectl not found on PATH" >&2; exit 2; }
failures=0
step() {  # step NAME COMMAND...
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    printf 'PASS  %s\n' "$name"
  else
    printf 'FAIL  %s\n' "$name"
    printf '%s\n' "$out" | tail -n 5 | sed 's/^/      /'
    failures=$((failures + 1))
  fi
}

echo "context: $(kubectl config current-context 2>/dev/null || echo '<none>')  overlay: $overlay"
step "cluster reachable" kubectl version --request-timeout=10s
if $apply; then
  step "apply overlays/$overlay" kubectl apply --server-side -k "$root/overlays/$overlay"
fi
for workload in statefulset/postgresql statefulset/redis deployment/api deployment/worker; do
  step "rollout $workload" kubectl -n "$namespace" rollout status "$workload" --timeout="$timeout"
done
# An endpoint counts only when it is ready: a listed address of a pod that
# fails its readiness probe receives no traffic.
ready_endpoints() {  # ready_endpoints SERVICE
  local ready total
  ready=$(kubectl -n "$namespace" get endpointslices -l "kubernetes.io/service-name=$1" \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .)
  total=$(kubectl -n "$namespace" get endpointslices -l "kubernetes.io/service-name=$1" \
    -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' | grep -c .)
  echo "$ready of $total endpoint(s) ready"
  [ "$ready" -gt 0 ]
}
for service in postgresql redis api; do
  step "ready endpoints of service/$service" ready_endpoints "$service"
done

health() {
  local port="${HEALTH_PORT:-18000}" pid rc=1 log
  log=$(mktemp)
  # A bounded wait for a running pod: past it, port-forward exits and says why.
  kubectl -n "$namespace" port-forward --pod-running-timeout=15s service/api "$port:8000" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 20); do
    if curl -fsS --max-time 5 "http://127.0.0.1:$port/health" >/dev/null; then rc=0; break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi  # port-forward gave up: its error says why
    sleep 1
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [ "$rc" -ne 0 ]; then
    echo "GET /health through port-forward failed; kubectl port-forward said:"
    cat "$log"
  fi
  rm -f "$log"
  return $rc
}
step "GET /health through port-forward" health

if [ "$failures" -eq 0 ]; then
  echo "all steps passed"
else
  echo "$failures step(s) failed; see docs/deployment.md#troubleshooting"
  exit 1
fi
