"""Settings refused in words a user can act on: pydantic's ValidationError as a ConfigurationError.

The option and config models are pydantic models, and pydantic reports a mistake in its own
format (a type tag, the input echoed, a link to its documentation). Where the core builds them from
a caller's settings, :func:`validated` turns that report into a :class:`ConfigurationError`: one
paragraph naming each setting by its path (``orq.retry.count``), its limit and what to give
instead, and, for an unknown key, the keys there are. It reads pydantic's structured errors and the
models' own field constraints, so a validator or a field added later is covered without code here.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import AliasChoices, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .errors import ConfigurationError, ConfigurationProblem, SettingPath

Model = TypeVar("Model", bound=BaseModel)

#: How pydantic's numeric constraints read in a message.
_BOUND_WORDS = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}


def validated(model: type[Model], data: Any, *, prefix: SettingPath = ()) -> Model:
    """``model.model_validate(data)``, refusing bad settings with a ConfigurationError.

    Args:
        prefix: where ``data`` sits in the caller's settings (``("orq",)`` for orq's options), so
            the message names ``orq.retry.count`` rather than ``retry.count``.

    Raises:
        ConfigurationError: naming every setting at fault.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise configuration_error(error, model, prefix=prefix) from None


def configuration_error(
    error: ValidationError, model: type[BaseModel], *, prefix: SettingPath = ()
) -> ConfigurationError:
    """The ConfigurationError that says what ``error``, raised validating ``model``, means."""
    problems: list[ConfigurationProblem] = []
    for detail in error.errors(include_url=False):
        problems.extend(_problems(detail, model, prefix))
    return ConfigurationError(problems)


def _problems(
    detail: Mapping[str, Any], model: type[BaseModel], prefix: SettingPath
) -> list[ConfigurationProblem]:
    loc: SettingPath = tuple(detail["loc"])
    path = prefix + loc
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        cause = context.get("error")
        if isinstance(cause, ConfigurationError):
            return [ConfigurationProblem(path + p.path, p.message) for p in cause.problems]
        return [ConfigurationProblem(path, str(cause) if cause else _lowered(detail["msg"]))]
    if kind == "extra_forbidden":
        return [_unknown_key(model, loc, prefix)]
    if kind == "missing":
        return [ConfigurationProblem(path, "is required but missing")]
    if kind in _RANGE_ERRORS:
        return [ConfigurationProblem(path, _out_of_range(model, loc, context, detail.get("input")))]
    if kind == "literal_error":
        return [ConfigurationProblem(path, f"must be {context['expected']}")]
    return [ConfigurationProblem(path, _lowered(detail["msg"]))]


_RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def _lowered(message: str) -> str:
    return message[:1].lower() + message[1:]


def _unknown_key(
    model: type[BaseModel], loc: SettingPath, prefix: SettingPath
) -> ConfigurationProblem:
    key = str(loc[-1])
    parent = _model_at(model, loc[:-1])
    if parent is None:
        return ConfigurationProblem(prefix + loc, "is not a known setting")
    names = _keys_of(parent)
    listed = ", ".join(names)
    close = difflib.get_close_matches(key, [n.split(" ")[0] for n in names], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    where = prefix + loc[:-1]
    subject = "has no key" if where else "there is no setting"
    return ConfigurationProblem(where, f"{subject} {key!r}; the valid keys are {listed}{hint}")


def _keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts, each with the other names it goes by: ``identity (or contact)``."""
    keys = []
    for name, field in sorted(model.model_fields.items()):
        others = [alias for alias in _aliases(field) if alias != name]
        keys.append(f"{name} (or {', '.join(others)})" if others else name)
    return keys


def _aliases(field: FieldInfo) -> list[str]:
    aliases = [field.alias] if field.alias else []
    if isinstance(field.validation_alias, AliasChoices):
        aliases += [choice for choice in field.validation_alias.choices if isinstance(choice, str)]
    elif isinstance(field.validation_alias, str):
        aliases.append(field.validation_alias)
    return list(dict.fromkeys(aliases))


def _out_of_range(
    model: type[BaseModel], loc: SettingPath, context: Mapping[str, Any], given: Any
) -> str:
    """``must be from 0 to 5, got 9``: every bound of the field, the broken one included."""
    bounds = {**_field_bounds(model, loc), **context}
    low = next((f"{_BOUND_WORDS[k]} {bounds[k]}" for k in ("ge", "gt") if k in bounds), None)
    high = next((f"{_BOUND_WORDS[k]} {bounds[k]}" for k in ("le", "lt") if k in bounds), None)
    if "ge" in bounds and "le" in bounds:
        limit = f"from {bounds['ge']} to {bounds['le']}"
    else:
        limit = " and ".join(part for part in (low, high) if part)
    # Only numbers are echoed: a string could be a key given to the wrong setting.
    shown = isinstance(given, (int, float)) and not isinstance(given, bool)
    return f"must be {limit}" + (f", got {given}" if shown else "")


def _field_bounds(model: type[BaseModel], loc: SettingPath) -> dict[str, Any]:
    field = _field_at(model, loc)
    if field is None:
        return {}
    return {
        key: getattr(item, key)
        for item in field.metadata
        for key in _BOUND_WORDS
        if getattr(item, key, None) is not None
    }


def _field_at(model: type[BaseModel], loc: SettingPath) -> FieldInfo | None:
    """The field validating the value at ``loc``: its last name, in the model holding it."""
    named = [index for index, part in enumerate(loc) if isinstance(part, str)]
    if not named:
        return None
    parent = _model_at(model, loc[: named[-1]])
    return None if parent is None else _field_named(parent, str(loc[named[-1]]))


def _model_at(model: type[BaseModel], loc: SettingPath) -> type[BaseModel] | None:
    """The model that validates the value at ``loc`` (list positions pass through)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = None if current is None else _field_named(current, part)
        if field is None:
            return None
        current = _model_in(field.annotation)
    return current


def _field_named(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, field in model.model_fields.items():
        if key == name or key in _aliases(field):
            return field
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds: ``OrqOptions | None``, ``tuple[Fallback, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
