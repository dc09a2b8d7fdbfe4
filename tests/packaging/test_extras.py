"""orq_embeddings.extras: finding optional modules without importing them, and the hint."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orq_embeddings.extras import (
    MissingExtraError,
    install_command,
    is_installed,
    require,
)


def test_an_installed_module_is_found_without_being_imported():
    probe = (
        "import sys; from orq_embeddings.extras import is_installed; "
        "print(is_installed('xml.dom.minidom'), 'xml.dom.minidom' in sys.modules)"
    )
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)

    assert finished.stdout.split() == ["True", "False"], finished.stderr


@pytest.mark.parametrize("module", ["no_such_module_4f1", "no_such_parent_4f1.child"])
def test_a_missing_module_or_parent_package_is_not_installed(module):
    assert not is_installed(module)


def test_the_install_command_names_each_extra_once_in_order():
    assert install_command(["langchain", "gateway", "langchain"]) == (
        'pip install "orq-embeddings[langchain,gateway]"'
    )


def test_require_passes_when_everything_is_installed():
    require("the json feature", {"json": "stdlib"})


def test_require_names_the_missing_module_and_the_pip_install():
    with pytest.raises(MissingExtraError) as raised:
        require("the widget", {"json": "stdlib", "no_such_module_4f1": "widgets"})

    assert str(raised.value) == (
        "the widget needs no_such_module_4f1, which is not installed: "
        'run pip install "orq-embeddings[widgets]"'
    )
    assert isinstance(raised.value, ImportError)


def test_require_lists_every_missing_module_and_each_extra_once():
    with pytest.raises(MissingExtraError, match="needs a_4f1 and b_4f1, which are not installed"):
        require("the server", {"a_4f1": "gateway", "b_4f1": "gateway"})
    with pytest.raises(MissingExtraError, match=r'\[gateway\]"$'):
        require("the server", {"a_4f1": "gateway", "b_4f1": "gateway"})
