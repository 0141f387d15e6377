#!/usr/bin/env bash
# Build the pinned actionlint (the GitHub Actions workflow linter) with
# `go install` into a cache directory, unless it is already there, and print
# the directory that holds the binary. Same cache as hack/install-conftest.sh.
#
#   ACTIONLINT_VERSION version to install (default: the pinned one below)
#   POLICYCHECK_TOOLS  cache directory (default: ~/.cache/policycheck/tools)
set -euo pipefail

version="${ACTIONLINT_VERSION:-1.7.12}"
cache="${POLICYCHECK_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/policycheck/tools}"
dir="$cache/actionlint-v$version"
bin="$dir/actionlint"

if [ -x "$bin" ] && "$bin" -version 2>/dev/null | head -n 1 | grep -qx "v$version"; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-actionlint: Go is needed to build actionlint $version (or put an actionlint binary on PATH)" >&2
  exit 2
fi
mkdir -p "$dir"
echo "install-actionlint: building actionlint $version into $dir (a minute or two the first time)" >&2
GOBIN="$dir" GOFLAGS="${GOFLAGS:-} -buildvcs=false" timeout 1800 go install \
  "github.com/rhysd/actionlint/cmd/actionlint@v$version" >&2
"$bin" -version >/dev/null
echo "$dir"
