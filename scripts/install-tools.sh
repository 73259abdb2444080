#!/usr/bin/env bash
# Install the pinned real tools the tests (and `aiplat-gen check`) run: kubeconform and kustomize,
# and actionlint, which lints the workflow `aiplat-gen init --ci github` writes.
#
# Binaries go to ${AIPLAT_TOOLS:-<repo>/.tools}/bin. A tool already there at the pinned version is
# left alone, so running this again is cheap. Needs only Go and the Go module proxy.
set -euo pipefail

KUBECONFORM_VERSION="v0.7.0"
KUSTOMIZE_VERSION="v5.8.1"
# The latest release the Go module proxy serves (proxy.golang.org/github.com/rhysd/actionlint/@v/list);
# its go.mod needs Go 1.25.
ACTIONLINT_VERSION="v1.7.12"

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_go install-tools

# install_tool NAME MODULE VERSION LDFLAGS VERSION_ARGS...
install_tool() {
    local name="$1" module="$2" version="$3" ldflags="$4"
    shift 4
    local binary="${bin_dir}/${name}"
    if has_version "${binary}" "${version}" "$@"; then
        echo "install-tools: ${name} ${version} already in ${bin_dir}"
        return 0
    fi
    echo "install-tools: installing ${name} ${version} (go install ${module}@${version}) ..."
    # CGO off: static binaries that do not depend on the host's libc.
    GOBIN="${bin_dir}" CGO_ENABLED=0 go install -trimpath -ldflags="${ldflags}" "${module}@${version}"
    if ! has_version "${binary}" "${version}" "$@"; then
        echo "install-tools: ${binary} does not report ${version} after install:" >&2
        "${binary}" "$@" >&2 || true
        exit 1
    fi
}

# kubeconform's version string is stamped by its release build (goreleaser: -X main.version={{.Tag}});
# a plain `go install` would report "development", so stamp it the same way.
install_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "${KUBECONFORM_VERSION}" \
    "-X main.version=${KUBECONFORM_VERSION}" -v
# kustomize reads its version from the Go build info, which `go install module@version` records.
install_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "${KUSTOMIZE_VERSION}" "" version
# actionlint too (`actionlint -version` prints the module version from the build info).
install_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "${ACTIONLINT_VERSION}" "" \
    -version

# The real Mermaid parser (with jsdom for its DOM), for the test that parses every graph the tool
# writes (tests/test_summary.py). From the npm registry, pinned.
MERMAID_VERSION="11.17.2"
JSDOM_VERSION="29.1.1"
mermaid_dir="${tools_dir}/mermaid"
if ! grep -qs "\"version\": \"${MERMAID_VERSION}\"" "${mermaid_dir}/node_modules/mermaid/package.json" \
        || ! grep -qs "\"version\": \"${JSDOM_VERSION}\"" "${mermaid_dir}/node_modules/jsdom/package.json"; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install-tools: 'npm' not found on PATH; install Node.js and npm first" >&2
        exit 1
    fi
    echo "install-tools: installing mermaid ${MERMAID_VERSION} and jsdom ${JSDOM_VERSION} (npm) ..."
    npm install --prefix "${mermaid_dir}" --no-audit --no-fund --loglevel=error \
        "mermaid@${MERMAID_VERSION}" "jsdom@${JSDOM_VERSION}" >/dev/null
fi

echo "install-tools: tools are in ${bin_dir}"
echo "install-tools:   kubeconform $("${bin_dir}/kubeconform" -v 2>&1)"
echo "install-tools:   kustomize $("${bin_dir}/kustomize" version 2>&1)"
echo "install-tools:   actionlint $("${bin_dir}/actionlint" -version 2>&1 | head -n 1)"
echo "install-tools:   mermaid ${MERMAID_VERSION} in ${mermaid_dir}"
