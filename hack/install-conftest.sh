#!/usr/bin/env bash
# Build the pinned conftest with `go install` into a cache directory, unless
# it is already there, and print the directory that holds the binary.
#
#   CONFTEST_VERSION  version to install (default: the pinned one below)
#   POLICYCHECK_TOOLS cache directory (default: ~/.cache/policycheck/tools)
set -euo pipefail
# shellcheck source=hack/lib/go-tool.sh
. "$(dirname "$0")/lib/go-tool.sh"

version="${CONFTEST_VERSION:-0.71.1}"
VERSION_ARGS=(--version)
go_tool conftest "$version" github.com/open-policy-agent/conftest "Conftest: $version" \
  "-X github.com/open-policy-agent/conftest/internal/version.Version=$version"
