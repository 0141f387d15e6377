#!/usr/bin/env bash
# Build the pinned conftest with `go install` into a cache directory, unless
# it is already there, and print the directory that holds the binary.
#
#   CONFTEST_VERSION  version to install (default: the pinned one below)
#   POLICYCHECK_TOOLS cache directory (default: ~/.cache/policycheck/tools)
set -euo pipefail

version="${CONFTEST_VERSION:-0.71.1}"
cache="${POLICYCHECK_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/policycheck/tools}"
dir="$cache/conftest-v$version"
bin="$dir/conftest"

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "Conftest: $version"; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-conftest: Go is needed to build conftest $version (or put a conftest binary on PATH)" >&2
  exit 2
fi
mkdir -p "$dir"
echo "install-conftest: building conftest $version into $dir (a few minutes the first time)" >&2
GOBIN="$dir" GOFLAGS="${GOFLAGS:-} -buildvcs=false" timeout 1800 go install \
  -ldflags "-X github.com/open-policy-agent/conftest/internal/version.Version=$version" \
  "github.com/open-policy-agent/conftest@v$version" >&2
"$bin" --version >/dev/null
echo "$dir"
