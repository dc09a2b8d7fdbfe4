"""No module of the packages imports itself through others, lazy imports included."""

from __future__ import annotations

from tests.support.imports import cycles, import_graph


def test_no_module_of_the_packages_imports_itself_through_others():
    found = cycles(import_graph())

    assert found == [], "\n".join(" -> ".join(cycle + cycle[:1]) for cycle in found)


def test_the_graph_sees_lazy_imports():
    # The factory imports the MiniLM embedder inside a function; the check must read it.
    assert (
        "orq_embeddings.gateway.embedders.minilm"
        in import_graph()["orq_embeddings.gateway.embedders"]
    )


def test_a_planted_cycle_is_found(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from . import b\nx = 1\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from .a import x\n    return x\n")

    assert cycles(import_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.b"]]
