"""The installs a user can make of the built wheel, each in a fresh virtual environment.

The dev environment has every extra, so it proves nothing about a user who has one (DESIGN.md:
"a dev install that has everything proves nothing about this"). Each :class:`Install` here is a
new venv holding only the wheel and one extra's dependencies, as ``pip install`` makes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
#: Variables that would let a venv's programs see the checkout or reach orq.ai.
ISOLATING = ("PYTHONPATH", "ORQ_API_KEY", "ORQ_BASE_URL")
#: The minor versions of Python 3 that pyproject.toml's classifiers declare.
SUPPORTED_MINORS = (10, 11, 12, 13)
#: Extras ``all`` leaves out: the engines bring a cluster framework each (Ray, Spark).
ENGINE_EXTRAS = ("ray", "spark")
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


@dataclass(frozen=True)
class Distributions:
    """What ``python -m build`` made: the sdist, and the wheel built from that sdist."""

    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Install:
    """One way to install the distribution: its extras, and the Python it runs on.

    Attributes:
        extras: what goes in the brackets of ``pip install "orq-embeddings[...]"``.
        python: the interpreter making the venv (default: the one running the tests).
        also: other distributions on the same ``pip install`` line (a notebook's matplotlib).
    """

    extras: tuple[str, ...] = ()
    python: str = sys.executable
    also: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        name = "+".join([",".join(self.extras) or "core", *self.also])
        return name if self.python == sys.executable else f"{name}@{Path(self.python).name}"

    def has(self, extra: str) -> bool:
        """Whether this install brings ``extra`` (``all`` brings all but the engines)."""
        return extra in self.extras or ("all" in self.extras and extra not in ENGINE_EXTRAS)

    def requirement(self, wheel: Path) -> str:
        return f"{wheel}[{','.join(self.extras)}]" if self.extras else str(wheel)


@dataclass(frozen=True)
class Venv:
    """A virtual environment holding one :class:`Install` of the wheel."""

    path: Path
    install: Install

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def cli(self) -> Path:
        return self.path / "bin" / "orq-embeddings"

    def run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a program of this venv (``python``, ``orq-embeddings``) with ``args``.

        It runs in the venv's folder, with no ``PYTHONPATH``, so ``python -c`` imports the
        installed wheel and never the checkout; and offline, without the orq.ai variables.
        """
        program, *rest = args
        return subprocess.run(
            [str(self.path / "bin" / program), *map(str, rest)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.path,
            env={k: v for k, v in os.environ.items() if k not in ISOLATING},
        )


def same_python_as_the_tests(python: str) -> bool:
    """Whether ``python`` is the tests' own version, the one ``constraints.txt`` was frozen on."""
    probe = [python, "-c", "import sys; print(sys.version_info[:2])"]
    return subprocess.check_output(probe, text=True).strip() == str(sys.version_info[:2])


def make_venv(path: Path, install: Install, wheel: Path) -> Venv:
    """A fresh venv at ``path`` with ``install`` of ``wheel``, pinned like the dev environment.

    The venv gets no pip of its own: the tests' pip installs into it (``pip --python``), which
    saves bootstrapping pip five times. pip's cache is used, so a second run downloads nothing.
    ``constraints.txt`` pins the versions for the tests' Python; another Python gets what pip
    resolves for it (some pins, numpy's for one, do not exist for every Python).
    """
    if install.python == sys.executable:
        venv.create(path, with_pip=False)
    else:
        subprocess.run([install.python, "-m", "venv", "--without-pip", str(path)], check=True)
    created = Venv(path, install)
    command = [sys.executable, "-m", "pip", "--python", str(created.python), "install", "-q"]
    if same_python_as_the_tests(str(created.python)):
        command += ["--constraint", str(CONSTRAINTS)]
    requirements = [install.requirement(wheel), *install.also]
    pip = subprocess.run([*command, *requirements], capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError(f"pip could not install {install.id}:\n{pip.stderr[-4000:]}")
    return created


def other_pythons(minors: tuple[int, ...] = SUPPORTED_MINORS) -> list[str]:
    """The interpreters on PATH for the supported Pythons other than the tests' own.

    A fresh machine may have none of them; the packaging tests then run on the tests' Python only.
    """
    found = []
    for minor in minors:
        if minor == sys.version_info.minor:
            continue
        name = f"python3.{minor}"
        # pyenv's shims answer only for the selected versions; its installs are found directly.
        candidates = [shutil.which(name), *sorted(PYENV_VERSIONS.glob(f"3.{minor}.*/bin/{name}"))]
        for python in filter(None, candidates):
            works = subprocess.run([python, "--version"], capture_output=True, check=False)
            if works.returncode == 0:
                found.append(str(python))
                break
    return found
