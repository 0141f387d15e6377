# Sourced by hack/install-*.sh: build a pinned Go tool with `go install` into
# the tools cache, unless it is already there, and print its directory.
#
#   go_tool NAME VERSION MODULE EXPECTED [LDFLAGS]
#
# EXPECTED is the first line `NAME --version`-style output must equal (the
# caller's VERSION_ARGS choose the flag); POLICYCHECK_TOOLS overrides the
# cache directory (default: ~/.cache/policycheck/tools).
go_tool() {
  local name="$1" version="$2" module="$3" expected="$4" ldflags="${5:-}"
  local cache="${POLICYCHECK_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/policycheck/tools}"
  local dir="$cache/$name-v$version"
  local bin="$dir/$name"
  if [ -x "$bin" ] && "$bin" "${VERSION_ARGS[@]}" 2>/dev/null | head -n 1 | grep -qxF "$expected"; then
    echo "$dir"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "install-$name: Go is needed to build $name $version (or put a $name binary on PATH)" >&2
    return 2
  fi
  mkdir -p "$dir"
  echo "install-$name: building $name $version into $dir (a few minutes the first time)" >&2
  GOBIN="$dir" GOFLAGS="${GOFLAGS:-} -buildvcs=false" timeout 1800 go install \
    ${ldflags:+-ldflags "$ldflags"} "$module@v$version" >&2
  "$bin" "${VERSION_ARGS[@]}" >/dev/null
  echo "$dir"
}
