#!/usr/bin/env bash
# Build the pinned actionlint (the GitHub Actions workflow linter) with
# `go install` into a cache directory, unless it is already there, and print
# the directory that holds the binary. Same cache as hack/install-conftest.sh.
#
#   ACTIONLINT_VERSION version to install (default: the pinned one below)
#   POLICYCHECK_TOOLS  cache directory (default: ~/.cache/policycheck/tools)
set -euo pipefail
# shellcheck source=hack/lib/go-tool.sh
. "$(dirname "$0")/lib/go-tool.sh"

version="${ACTIONLINT_VERSION:-1.7.12}"
VERSION_ARGS=(-version)
go_tool actionlint "$version" github.com/rhysd/actionlint/cmd/actionlint "v$version"
