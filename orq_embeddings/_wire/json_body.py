"""A response body read as JSON, or a short, safe sentence saying why it cannot be.

Server text shown in an error message goes through :func:`printable` first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .raw_response import RawResponse

#: How much of an unreadable body an error message quotes.
_BODY_EXCERPT_CHARS = 200
#: ANSI escape sequences (CSI and OSC), then any other control character: server text shown in
#: an error message must not recolour, move or rewrite the user's terminal or split a log line.
_TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def printable(text: str) -> str:
    """Server text made safe to show: escape sequences removed, control characters a space."""
    return _CONTROL_CHARACTERS.sub(" ", _TERMINAL_ESCAPES.sub("", text)).strip()


class _DuplicateKeyError(ValueError):
    """A JSON object names one key twice: which value counts is the parser's guess."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object as a dict, refusing a repeated key (a second ``data`` would win silently)."""
    built = dict(pairs)
    if len(built) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(
                    f"the body repeats the key {printable(key)!r} in one object"
                )
            seen.add(key)
    return built


def describe_body(body: bytes, content_type: str | None) -> str:
    """A short, safe description of a body that is not the JSON expected."""
    if not body.strip():
        return "the body is empty"
    text = body[: _BODY_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    kind = printable(content_type or "no content type")
    if "<html" in text.lower() or "<!doctype" in text.lower():
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        named = f" titled {printable(title.group(1))!r}" if title else ""
        return f"the body is an HTML page{named} ({kind}, {len(body)} bytes), not JSON"
    excerpt = " ".join(printable(text).split())[:_BODY_EXCERPT_CHARS]
    return f"the body is not valid JSON ({kind}, {len(body)} bytes): {excerpt!r}"


def read_json(response: RawResponse) -> Any:
    """The body parsed as JSON.

    Raises:
        ValueError: saying, safely and briefly, why the body cannot be read as JSON.
    """
    try:
        return json.loads(response.body, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError:
        raise
    except RecursionError:
        # Nesting deeper than the parser recurses is no reason to crash with a RecursionError.
        raise ValueError(
            f"the body is JSON nested too deeply to read ({len(response.body)} bytes)"
        ) from None
    except ValueError:
        raise ValueError(
            describe_body(response.body, response.headers.get("content-type"))
        ) from None
