#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (pinned), then runs pytest.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -k golden  # extra arguments go to pytest
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "${python}" -m venv .venv
fi
.venv/bin/python -m pip install --quiet -c requirements/constraints.txt -e ".[test]"

# Checkov pins packaging<24, which conflicts with the project's pins: it gets its own venv.
if [[ ! -x .venv-checkov/bin/python ]]; then
    "${python}" -m venv .venv-checkov
fi
.venv-checkov/bin/python -m pip install --quiet -r requirements/checkov.txt

bash scripts/install-tools.sh
# The Kubernetes control plane `simulate` runs (etcd, kube-apiserver, controllers, scheduler),
# built from pinned Go modules: about 15 minutes cold, seconds once the Go build cache is warm.
bash scripts/install-controlplane.sh

export AIPLAT_TOOLS="${repo_root}/.tools"
export PATH="${AIPLAT_TOOLS}/bin:${PATH}"
export AIPLAT_CHECKOV="${repo_root}/.venv-checkov/bin/checkov"
exec .venv/bin/python -m pytest "$@"
