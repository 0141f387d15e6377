#!/usr/bin/env bash
# Build the control plane the cluster tier runs on, from the Go module proxy,
# into a cache directory, unless it is already there; print the directory
# that holds the binaries (bin/) and kwok's stage files (stages/).
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (KUBE_VERSION)
#   etcd                                                              (ETCD_VERSION)
#   kwok, with the node/pod/volume stages of its own module           (KWOK_VERSION)
#
#   POLICYCHECK_CLUSTER  cache directory (default: ~/.cache/policycheck/cluster)
#
# `go install` refuses k8s.io/kubernetes (its go.mod replaces the staging
# modules with local directories), so the Kubernetes binaries are built from a
# throwaway module that replaces each of them with its published v0.X.Y.
# Cold: about 12 minutes on 2 cores and 2 GB of memory; cached: instant.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
cache="${POLICYCHECK_CLUSTER:-${XDG_CACHE_HOME:-$HOME/.cache}/policycheck/cluster}"
dir="$cache/k8s-v$KUBE_VERSION-etcd-v$ETCD_VERSION-kwok-v$KWOK_VERSION"
bin="$dir/bin"
KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

log() { echo "cluster-build: $*" >&2; }

built() {
  [ -f "$dir/.complete" ] || return 1
  local b
  for b in "${KUBE_BINARIES[@]}" etcd kwok; do [ -x "$bin/$b" ] || return 1; done
  "$bin/kube-apiserver" --version 2>/dev/null | grep -qxF "Kubernetes v$KUBE_VERSION" || return 1
  "$bin/etcd" --version 2>/dev/null | grep -qF "etcd Version: $ETCD_VERSION" || return 1
  [ -d "$dir/stages" ]
}

if built; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is needed to build the control plane (kube-apiserver v$KUBE_VERSION, etcd v$ETCD_VERSION, kwok v$KWOK_VERSION)"
  exit 2
fi

mkdir -p "$bin"
rm -f "$dir/.complete"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" GOTOOLCHAIN=local
minor="${KUBE_VERSION#*.}"
minor="${minor%%.*}"
staging_version="v0.$minor.${KUBE_VERSION##*.}"
deadline=(timeout 3600)

# --- Kubernetes -------------------------------------------------------------------------------------------
log "building Kubernetes v$KUBE_VERSION (${KUBE_BINARIES[*]}) into $bin; about 12 minutes the first time"
mkdir -p "$work/kube"
cd "$work/kube"
go mod init policycheck.invalid/cluster-build >/dev/null 2>&1
upstream="$("${deadline[@]}" go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
[ -f "$upstream" ] || { log "no go.mod for k8s.io/kubernetes@v$KUBE_VERSION"; exit 2; }
# The language version and the godebug defaults of k8s.io/kubernetes itself.
go mod edit -go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$upstream")"
sed -n 's/^godebug \(.*\)$/\1/p' "$upstream" | while read -r setting; do go mod edit -godebug="$setting"; done
staging="$(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*$|\1|p' "$upstream")"
[ -n "$staging" ] || { log "k8s.io/kubernetes@v$KUBE_VERSION replaces no staging module: unexpected go.mod"; exit 2; }
for module in $staging; do
  go mod edit -replace="$module=$module@$staging_version"
done
go mod edit -require="k8s.io/kubernetes@v$KUBE_VERSION"
tools=()
for b in "${KUBE_BINARIES[@]}"; do tools+=("k8s.io/kubernetes/cmd/$b@v$KUBE_VERSION"); done
# The version on every package path: without it go picks the newest k8s.io/kubernetes.
"${deadline[@]}" go get -tool "${tools[@]}" >&2
version_flags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  version_flags+=" -X $pkg.gitTreeState=clean"
done
packages=()
for b in "${KUBE_BINARIES[@]}"; do packages+=("k8s.io/kubernetes/cmd/$b"); done
"${deadline[@]}" go build -trimpath -ldflags "-s -w$version_flags" -o "$bin/" "${packages[@]}" >&2

# --- etcd -------------------------------------------------------------------------------------------------
log "building etcd v$ETCD_VERSION"
mkdir -p "$work/etcd"
cd "$work/etcd"
go mod init policycheck.invalid/etcd-build >/dev/null 2>&1
"${deadline[@]}" go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
"${deadline[@]}" go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3 >&2

# --- kwok and its stages ----------------------------------------------------------------------------------
log "building kwok v$KWOK_VERSION"
GOBIN="$bin" "${deadline[@]}" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" >&2
kwok_dir="$("${deadline[@]}" go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$kwok_dir/kustomize/stage" ] || { log "kwok v$KWOK_VERSION has no kustomize/stage directory"; exit 2; }
rm -rf "$dir/stages"
mkdir -p "$dir/stages"
# The bare binary has no stages: take the node, pod and volume lifecycles from the module.
for stage in node/fast node/heartbeat pod/fast volume/fast; do
  for file in "$kwok_dir/kustomize/stage/$stage"/*.yaml; do
    case "$(basename "$file")" in kustomization.yaml | storage-class.yaml) continue ;; esac
    cp "$file" "$dir/stages/${stage%%/*}-$(basename "$file")"
  done
done
chmod -R u+w "$dir/stages"
ls "$dir/stages"/*.yaml >/dev/null 2>&1 || { log "found no kwok stage files in $kwok_dir/kustomize/stage"; exit 2; }

touch "$dir/.complete"
built || { log "the built binaries do not report the pinned versions"; exit 2; }
log "done: $bin"
echo "$dir"
