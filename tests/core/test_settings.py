"""Each client setting is declared once, in orq_embeddings/settings.py, and reaches every surface.

A new setting added to ClientSettings reaches the core, both adapters and (when marked) the bulk
command without another edit; these tests name the place when it does not.
"""

from __future__ import annotations

import argparse
from typing import Any, get_type_hints

import httpx
import pytest
import requests

from langchain_orq import OrqEmbeddings
from llama_index_orq import OrqEmbedding
from orq_embeddings import OrqEmbeddingsClient
from orq_embeddings.bulk.command import configure
from orq_embeddings.bulk.setting_flags import flag_of, marked_settings
from orq_embeddings.settings import ClientSettings, ClientSettingsArgs

LOOPBACK = "http://127.0.0.1:9/v2/router"
SETTINGS = list(ClientSettings.model_fields)


#: Settings that take an object the caller made (no JSON example can stand for one): a fresh one.
OBJECT_EXAMPLES = {"http_client": requests.Session, "http_async_client": httpx.AsyncClient}


def example_of(name: str) -> Any:
    if name in OBJECT_EXAMPLES:
        return OBJECT_EXAMPLES[name]()
    examples = ClientSettings.model_fields[name].examples
    assert examples, f"give {name} an example in ClientSettings, orq_embeddings/settings.py"
    return examples[0]


def test_the_keyword_arguments_are_the_declared_settings():
    declared = get_type_hints(ClientSettings)
    declared = {name: declared[name] for name in SETTINGS}
    arguments = get_type_hints(ClientSettingsArgs)

    for name in declared.keys() - arguments.keys():
        pytest.fail(f"declare {name} in ClientSettingsArgs, orq_embeddings/settings.py")
    for name in arguments.keys() - declared.keys():
        pytest.fail(f"{name} is in ClientSettingsArgs but not in ClientSettings")
    assert arguments == declared


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_has_a_description_and_an_example(name):
    field = ClientSettings.model_fields[name]

    assert field.description, f"describe {name} in ClientSettings, orq_embeddings/settings.py"
    assert field.examples or name in OBJECT_EXAMPLES, (
        f"give {name} an example in ClientSettings, orq_embeddings/settings.py"
    )
    assert example_of(name) != field.default, f"{name}'s example must differ from its default"


#: The model of the settings' examples (``space`` names it: a client bound to another model's
#: space is refused).
MODEL = "openai/text-embedding-3-small"
SURFACES = {
    "core": lambda **settings: OrqEmbeddingsClient(MODEL, base_url=LOOPBACK, **settings).config,
    "langchain": lambda **settings: (
        OrqEmbeddings(model=MODEL, base_url=LOOPBACK, **settings).client.config
    ),
    "llama-index": lambda **settings: (
        OrqEmbedding(model_name=MODEL, base_url=LOOPBACK, **settings).client.config
    ),
}


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_reaches_every_surface(name, surface):
    value = example_of(name)

    config = SURFACES[surface](**{name: value})

    assert getattr(config, name) == value, f"{surface} does not pass {name} on to the core"


def test_the_bulk_command_offers_every_marked_setting():
    embed = argparse.ArgumentParser()
    configure(embed)
    flags = {flag: action for action in embed._actions for flag in action.option_strings}

    assert marked_settings(), "no setting is marked for the command line"
    for name in marked_settings():
        assert flag_of(name) in flags, f"the bulk command has no {flag_of(name)}"
        value = example_of(name)
        # A switch takes no value: --name sets True, --no-name False.
        given = [flag_of(name)] if value is True else [flag_of(name), str(value)]
        args = embed.parse_args(["in.txt", "-o", "out.npy", "--model", "m", *given])
        assert getattr(args, name) == value
