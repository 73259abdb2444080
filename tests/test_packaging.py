"""A non-editable install in a fresh virtual environment renders: templates ship in the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import REPO, tree_bytes


@pytest.mark.slow
def test_wheel_install_renders_the_examples(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(REPO)],
        capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("aiplat_gen-*.whl"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    # The fresh environment gets its dependencies from this one by path (offline), but not
    # aiplat-gen itself: the wheel is unpacked into it as pip would install it.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
         str(site), str(wheel)], capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stderr

    work = tmp_path / "work"
    shutil.copytree(REPO / "profiles", work / "profiles")
    where = subprocess.run([str(python), "-c", "import aiplat_gen; print(aiplat_gen.__file__)"],
                           cwd=work, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where
    assert (site / "aiplat_gen" / "templates" / "cluster" / "namespace.yaml.j2").is_file()
    run = subprocess.run([str(python), "-m", "aiplat_gen", "render", "--all"], cwd=work,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert tree_bytes(work / "output") == tree_bytes(REPO / "output")
    # The CRD schemas ship too: `check` needs no --schema-location and no network.
    shipped = site / "aiplat_gen" / "crd-schemas"
    assert tree_bytes(shipped) == tree_bytes(REPO / "crd-schemas")
    check = subprocess.run([str(python), "-m", "aiplat_gen", "check", "--all", "--no-cache"],
                           cwd=work, capture_output=True, text=True, timeout=600, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.rstrip().endswith(": ok"), check.stdout
