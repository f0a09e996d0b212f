"""Reading the stack config: raw `monitoring:*` values in, a StackConfig or one ConfigError out.

The error keeps one line per problem, `monitoring:<key path>: <value> is not allowed: <what
is allowed>`. A value under a secret key (a `SecretStr` field, text typed where an object with
one goes, or any key the engine says the user stored with `--secret`) is shown only as
`<secret, N characters>`, the userinfo of a URL
never, and an unknown key's value not at all (it may be a misspelt secret).
Plain Python: no Pulumi import.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from components.config.model import NAMESPACE, RECEIVER_TYPES, StackConfig
from components.types import url_without_userinfo


class ConfigError(ValueError):
    """Every problem in the stack config, one line each, naming key, value and what is allowed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(f"  - {p}" for p in problems))


def values_in_namespace(all_config: Mapping[str, Any]) -> dict[str, Any]:
    """The `monitoring:*` entries of a full config map, keyed without the namespace."""
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix):]: v for k, v in all_config.items() if k.startswith(prefix)}


def load_config(values: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> StackConfig:
    """The StackConfig of raw `monitoring:*` values (keys without the namespace).

    Values are what Pulumi stores (strings, objects as JSON text) or parsed Python values;
    a None value means "not given". `secret_keys` are the keys stored as secrets. Raises
    ConfigError listing every problem.
    """
    secret = frozenset(secret_keys)
    given = {key: value for key, value in values.items() if value is not None}
    try:
        config = StackConfig.model_validate(given, context={"secret_keys": secret})
    except ValidationError as error:
        raise ConfigError([_problem(detail, secret) for detail in error.errors()]) from None
    config._secret_keys = secret
    return config


# --- problem lines -------------------------------------------------------------------------

def _unwrap(annotation: Any) -> list[Any]:
    """The classes an annotation may hold (Annotated, Optional, unions and tuples opened)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        return [inner for arg in typing.get_args(annotation) if arg is not Ellipsis for inner in _unwrap(arg)]
    return [annotation]


def _walk(loc: tuple[int | str, ...]) -> tuple[str, type[BaseModel] | None, FieldInfo | None]:
    """The key path people type (`alertmanager.receivers[0].url`), the model that holds its
    last key, and that key's field (None where the key is not a field, e.g. an unknown one)."""
    models: list[type[BaseModel]] = [StackConfig]
    owner: type[BaseModel] | None = StackConfig
    field: FieldInfo | None = None
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        if part.startswith("function-") or part == "[key]":  # validator frames; a dict key's own check
            continue
        if part in RECEIVER_TYPES and index and isinstance(loc[index - 1], int):
            # The union tag pydantic puts in the location: pick that receiver's model.
            models = [m for m in models if "type" in m.model_fields
                      and typing.get_args(m.model_fields["type"].annotation) == (part,)]
            continue
        found = [(m, name, f) for m in models for name, f in m.model_fields.items() if part in (name, f.alias)]
        if found:
            owner, name, field = found[0]
            part = field.alias or name
            models = [c for c in _unwrap(field.annotation) if isinstance(c, type) and issubclass(c, BaseModel)]
        else:
            owner, field = (models[0] if models else None), None
            models = []
        text += f".{part}" if text else part
    return text, owner, field


def _allowed_keys(model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    return ", ".join(sorted(f.alias or name for name, f in model.model_fields.items()))


def _shown(value: Any, secret: bool) -> str:
    if value is None:
        return "null"
    if secret:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        length = len(text) if isinstance(text, str) else len(json.dumps(text, default=str))
        return f"<secret, {length} characters>"
    if isinstance(value, Mapping):  # may hold credentials: its shape only
        return f"<object with keys {', '.join(sorted(map(str, value)))}>"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (str, int, float, bool)) or v is None for v in value):
            return json.dumps([url_without_userinfo(v) if isinstance(v, str) else v for v in value])
        return f"<list of {len(value)} items>"
    if isinstance(value, str):
        return json.dumps(url_without_userinfo(value))
    return json.dumps(value, default=str)


def _holds_secrets(field: FieldInfo | None) -> bool:
    """Does the field take objects with a secret key (a receiver, `heartbeat`)? Text typed in
    its place is likely that secret (`heartbeat: https://.../<token>`)."""
    models = [c for c in _unwrap(field.annotation) if isinstance(c, type) and issubclass(c, BaseModel)] if field else []
    return any(SecretStr in _unwrap(f.annotation) for m in models for f in m.model_fields.values())


def _has_text(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, (list, tuple)) and any(isinstance(v, str) for v in value))


_ALLOWED_BY_TYPE = {
    "model_type": "an object", "model_attributes_type": "an object", "dict_type": "an object",
    "tuple_type": "a list", "list_type": "a list",
    "too_short": "a non-empty list", "bool_type": "true or false", "bool_parsing": "true or false",
}


def _problem(detail: ErrorDetails, secret_keys: frozenset[str]) -> str:
    loc = tuple(detail["loc"])
    kind, context, value = detail["type"], detail.get("ctx") or {}, detail.get("input")
    if kind == "cross_field":
        extra = context["key"]
        loc = (*loc, *([extra] if not extra.startswith("[") else []))
        value = context["value"]
    key, model, field = _walk(loc)
    if kind == "cross_field" and context["key"].startswith("["):
        key += context["key"]
    if kind == "extra_forbidden":
        # Possibly a misspelt secret (grafana.adminPassword): named, never printed.
        return f"{NAMESPACE}:{key}: is not a known key (value not shown); allowed: {_allowed_keys(model)}"
    if kind == "missing":
        return f"{NAMESPACE}:{key}: is missing; this object's keys: {_allowed_keys(model)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key, value = f"{key}.type", context.get("tag")
        allowed = f"one of {', '.join(RECEIVER_TYPES)}"
    elif kind == "literal_error":
        allowed = f"one of {context.get('expected', '')}".replace("'", "")
    elif kind in ("not_allowed", "cross_field"):
        allowed = detail["msg"]
    else:
        allowed = _ALLOWED_BY_TYPE.get(kind, detail["msg"])
    top = str(loc[0]) if loc else ""
    is_secret = (top in secret_keys or (field is not None and SecretStr in _unwrap(field.annotation))
                 or (not kind.startswith("union_tag") and _holds_secrets(field) and _has_text(value)))
    return f"{NAMESPACE}:{key}: {_shown(value, is_secret)} is not allowed: {allowed}"
