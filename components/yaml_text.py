"""YAML text for the files the stack renders (alertmanager.yml, rule files): block style,
multi-line strings (PromQL, templates) as `|` blocks, keys in the order given.
Plain Python: no Pulumi import."""

from __future__ import annotations

from typing import Any

import yaml


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as `|` blocks."""


# Line breaks that YAML readers fold into spaces when written raw (NEL, LS, PS): quoted, they are
# escaped (\N, \L, \P) and read back as written.
_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(mark in value for mark in _UNICODE_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_BlockDumper.add_representer(str, _represent_str)


def dump_yaml(document: Any) -> str:
    text: str = yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=1000)
    return text
