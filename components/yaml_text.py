"""YAML text for the files the stack renders. `dump_yaml` (alertmanager.yml, rule files): block
style, multi-line strings (PromQL, templates) as `|` blocks, keys in the order given;
`dump_plain_yaml` (prometheus.yml, the blackbox and web configs): PyYAML's safe_dump layout.
Both write with libyaml's emitter (PyYAML's C binding): the pure-Python one cost each receiver
and target of a large fleet most of its run time under mocks. Plain Python: no Pulumi import."""

from __future__ import annotations

from typing import Any

import yaml


class _BlockDumper(yaml.CSafeDumper):
    """SafeDumper that writes multi-line strings as `|` blocks."""


# Line breaks that YAML readers fold into spaces when written raw (NEL, LS, PS): quoted, they are
# escaped (\N, \L, \P) and read back as written.
_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    if any(mark in value for mark in _UNICODE_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_BlockDumper.add_representer(str, _represent_str)


def dump_yaml(document: Any) -> str:
    text: str = yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=1000)
    return text


def dump_plain_yaml(document: Any, *, sort_keys: bool = False) -> str:
    text: str = yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=sort_keys, default_flow_style=False)
    return text
