"""The bulk command's flags for client settings, derived from their one declaration.

Each field of :class:`~orq_embeddings.settings.ClientSettings` marked with
:class:`~orq_embeddings.settings.CommandLine` becomes ``--its-name``, with the field's type and
default, so a setting marked there reaches the command line without an edit here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, cast, get_args

from ..settings import ClientSettings, CommandLine


def marked_settings() -> dict[str, CommandLine]:
    """The settings the command offers, each with its marker."""
    return {
        name: marker
        for name, field in ClientSettings.model_fields.items()
        for marker in field.metadata
        if isinstance(marker, CommandLine)
    }


def flag_of(name: str) -> str:
    """The flag of a setting: ``max_concurrency`` -> ``--max-concurrency``."""
    return "--" + name.replace("_", "-")


def add_setting_flags(add_argument: Callable[..., argparse.Action]) -> None:
    """Add a flag for each marked setting, with ``add_argument`` (a parser's, or one that also
    records it); its help ends with the default, as the others do."""
    for name, marker in marked_settings().items():
        field = ClientSettings.model_fields[name]
        default = "none" if field.default is None else field.default
        help_text = f"{marker.help} (default: {default})"
        if field.annotation is bool:
            add_argument(
                flag_of(name),
                action=argparse.BooleanOptionalAction,
                default=field.default,
                help=help_text,
            )
        else:
            add_argument(
                flag_of(name),
                type=_converter(field.annotation),
                default=field.default,
                help=help_text,
            )


def _converter(annotation: Any) -> Callable[[str], Any]:
    """The type a flag's text becomes: the setting's own (int, float), or ``X`` of ``X | None``.

    An optional setting's None is what a flag left out gives. A type with a ``parse`` class
    method (EmbeddingSpace) reads the text with it, and argparse shows why a text was refused.
    """
    types = [kind for kind in get_args(annotation) if kind is not type(None)]
    kind = types[0] if types else annotation
    parse = getattr(kind, "parse", None)
    if parse is None:
        return cast("Callable[[str], Any]", kind)

    def parsed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parsed


def command_line_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The marked settings' values from parsed flags, as the client's keyword arguments."""
    return {name: getattr(args, name) for name in marked_settings()}
