#!/usr/bin/env bash
# Build the pinned Kubernetes control plane that `aiplat-gen simulate` and the tests run:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler, from the Go module proxy.
#
# Binaries go to ${AIPLAT_TOOLS:-<repo>/.tools}/bin. A binary already there at the pinned version
# is left alone. The versions are pinned by the two small Go modules beside this script
# (scripts/controlplane/etcd and scripts/controlplane/kubernetes, with their go.sum); a cold build
# takes about 15 minutes on two cores (kube-apiserver is most of it), a build with a warm Go build
# cache about a minute (linking only).
set -euo pipefail

ETCD_VERSION="3.6.6"
KUBERNETES_VERSION="v1.35.4"

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_go install-controlplane
modules="${repo_root}/scripts/controlplane"

# build MODULE_DIR NAME PACKAGE LDFLAGS EXPECTED VERSION_ARGS...
build() {
    local module_dir="$1" name="$2" package="$3" ldflags="$4" expected="$5"
    shift 5
    local binary="${bin_dir}/${name}"
    if has_version "${binary}" "${expected}" "$@"; then
        echo "install-controlplane: ${name} (${expected}) already in ${bin_dir}"
        return 0
    fi
    echo "install-controlplane: building ${name} (${package}) ..."
    local started=${SECONDS}
    # -mod=readonly: go.mod and go.sum are the pins; a build never rewrites them.
    (cd "${module_dir}" && CGO_ENABLED=0 go build -mod=readonly -trimpath \
        -ldflags="${ldflags}" -o "${binary}.tmp" "${package}")
    mv -f "${binary}.tmp" "${binary}"
    if ! has_version "${binary}" "${expected}" "$@"; then
        echo "install-controlplane: ${binary} does not report ${expected}:" >&2
        "${binary}" "$@" >&2 || true
        exit 1
    fi
    echo "install-controlplane: built ${name} in $((SECONDS - started)) s"
}

# etcd's module root is the etcd program itself.
build "${modules}/etcd" etcd go.etcd.io/etcd/server/v3 "" "etcd Version: ${ETCD_VERSION}" --version

# A release build stamps the version into component-base; `go build` alone would report
# v0.0.0-master. The same stamp as the release's hack/lib/version.sh sets.
minor="${KUBERNETES_VERSION#v1.}"
minor="${minor%%.*}"
k8s_ldflags="-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}"
k8s_ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
k8s_ldflags+=" -X k8s.io/component-base/version.gitMinor=${minor}"
k8s_ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
for component in kube-apiserver kube-controller-manager kube-scheduler; do
    build "${modules}/kubernetes" "${component}" "k8s.io/kubernetes/cmd/${component}" \
        "${k8s_ldflags}" "Kubernetes ${KUBERNETES_VERSION}" --version
done

echo "install-controlplane: etcd ${ETCD_VERSION} and Kubernetes ${KUBERNETES_VERSION} in ${bin_dir}"
