"""The wheel and sdist as an index would receive them: files, metadata, license."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser

import pytest
from packaging.requirements import Requirement

from orq_embeddings import extras

from .installs import ROOT, SUPPORTED_MINORS, Distributions

pytestmark = pytest.mark.timeout(600)

PUBLISHED_EXTRAS = {
    "speedups",
    "langchain",
    "llama-index",
    "gateway",
    "minilm",
    "parquet",
    "otel",
    "all",
    "ray",
    "spark",
}
PACKAGES = {"orq_embeddings", "langchain_orq", "llama_index_orq", "orq_embeddings_demo"}


def wheel_metadata(distributions: Distributions) -> Message:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(wheel.read(name).decode())


def test_check_wheel_contents_finds_nothing_wrong(distributions):
    # Run from the checkout, so it reads [tool.check-wheel-contents] in pyproject.toml.
    checked = subprocess.run(
        [sys.executable, "-m", "check_wheel_contents", str(distributions.wheel)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith("OK")


def test_twine_check_passes_the_wheel_and_the_sdist(distributions):
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "check",
            "--strict",
            str(distributions.wheel),
            str(distributions.sdist),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_holds_exactly_the_four_packages(distributions):
    with zipfile.ZipFile(distributions.wheel) as wheel:
        top_level = {name.split("/")[0] for name in wheel.namelist()}
    assert {name for name in top_level if not name.endswith(".dist-info")} == PACKAGES


def test_the_license_is_in_the_wheel_and_the_sdist(distributions):
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License")
    with zipfile.ZipFile(distributions.wheel) as wheel:
        (in_wheel,) = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(in_wheel).decode() == license_text
    with tarfile.open(distributions.sdist) as sdist:
        (in_sdist,) = [n for n in sdist.getnames() if n.count("/") == 1 and n.endswith("/LICENSE")]
        member = sdist.extractfile(in_sdist)
        assert member is not None and member.read().decode() == license_text
    metadata = wheel_metadata(distributions)
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_developer_tools_are_not_a_published_extra(distributions):
    metadata = wheel_metadata(distributions)
    assert set(metadata.get_all("Provides-Extra")) == PUBLISHED_EXTRAS
    requirements = " ".join(metadata.get_all("Requires-Dist"))
    for tool in ("pytest", "ruff", "mypy", "twine"):
        assert tool not in requirements
    # The engines are extras of their own, never brought by another install.
    for engine, extra in (("ray", "ray"), ("pyspark", "spark")):
        brought = [r for r in metadata.get_all("Requires-Dist") if r.startswith(engine)]
        assert brought and all(r.endswith(f"extra == '{extra}'") for r in brought), brought


def test_the_otel_extra_brings_opentelemetrys_api_alone(distributions):
    requirements = map(Requirement, wheel_metadata(distributions).get_all("Requires-Dist"))
    otel = [
        f"{requirement.name}{requirement.specifier}"
        for requirement in requirements
        if requirement.marker is not None and requirement.marker.evaluate({"extra": "otel"})
    ]
    assert otel == ["opentelemetry-api>=1.30"]


def test_tqdm_is_a_dependency_of_every_install(distributions):
    requirements = wheel_metadata(distributions).get_all("Requires-Dist")
    assert [r for r in requirements if r.startswith("tqdm")] == ["tqdm>=4.66"]


def test_the_classifiers_name_the_pythons_the_packaging_tests_install_on(distributions):
    metadata = wheel_metadata(distributions)
    declared = {
        int(classifier.rsplit(".", 1)[1])
        for classifier in metadata.get_all("Classifier")
        if classifier.startswith("Programming Language :: Python :: 3.")
    }
    assert declared == set(SUPPORTED_MINORS)
    assert metadata["Requires-Python"] == f">=3.{min(SUPPORTED_MINORS)}"


def test_every_extra_the_code_names_in_a_hint_is_published(distributions):
    named = {
        extra
        for modules in (
            extras.LANGCHAIN,
            extras.LLAMA_INDEX,
            extras.GATEWAY_SERVER,
            extras.RAY,
            extras.SPARK,
        )
        for extra in modules.values()
    }
    assert named <= set(wheel_metadata(distributions).get_all("Provides-Extra"))
