"""The built distributions, made once per test session with ``python -m build``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .installs import ROOT, Distributions


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """The wheel and sdist of this checkout, built as a release would be (isolated build env)."""
    outdir = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-4000:]
    (wheel,) = outdir.glob("*.whl")
    (sdist,) = outdir.glob("*.tar.gz")
    return Distributions(wheel=wheel, sdist=sdist)
