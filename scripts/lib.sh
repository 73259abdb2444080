# Shared by the install scripts (sourced, not run): where the pinned tools go, and how a binary
# already there is recognised.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${AIPLAT_TOOLS:-${repo_root}/.tools}"
bin_dir="${tools_dir}/bin"

# require_go SCRIPT: stop with a message when Go is not on PATH.
require_go() {
    if ! command -v go >/dev/null 2>&1; then
        echo "$1: 'go' not found on PATH; install Go (https://go.dev/dl/) first" >&2
        exit 1
    fi
    mkdir -p "${bin_dir}"
    bin_dir="$(cd "${bin_dir}" && pwd)"
}

# has_version BINARY EXPECTED ARGS...: true when BINARY exists and `BINARY ARGS...` prints EXPECTED.
has_version() {
    local binary="$1" expected="$2"
    shift 2
    [[ -x "${binary}" ]] || return 1
    local out
    out="$("${binary}" "$@" 2>&1)" || return 1
    [[ "${out}" == *"${expected}"* ]]
}
