"""What changed between two sets of dashboard models, as a short Markdown summary per panel.

Pure: models in, text out (no files, no git, no Pulumi). `python -m dashboards.diff` is the
command around it. Dashboards are matched by uid, panels by id (the stable ids every panel
has), queries by refId and variables by name. Values of up to INLINE_LIMIT characters are
shown inline as code spans; longer ones (most PromQL) whole, in a fenced `diff` block, under
a line naming the fragments that changed.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Model = Mapping[str, Any]

NO_CHANGES = "No dashboard changes."
INLINE_LIMIT = 80
# How many changed fragments of a long value the line above its diff block names.
FRAGMENT_LIMIT = 3
# Below this token similarity a long value is called rewritten: its fragments would be noise.
REWRITE_RATIO = 0.5

# Keys that get their own line; any other key that differs is named under "also changed".
_DASHBOARD_REPORTED = frozenset({"uid", "title", "panels", "templating"})
_PANEL_REPORTED = frozenset({"id", "title", "type", "targets", "fieldConfig", "panels"})
_DEFAULTS_REPORTED = frozenset({"unit", "thresholds"})
_TARGET_REPORTED = frozenset({"refId", "expr", "legendFormat"})

# PromQL-ish tokens: quoted strings, words (names, numbers, durations), single other characters.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\w+|\s+|.', re.DOTALL)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


class _Missing:
    """A key absent from a model (distinct from a JSON null)."""


MISSING: Any = _Missing()


@dataclass
class _Item:
    """One Markdown list item: its lines (the first after the bullet) and nested items."""

    lines: list[str]
    children: list[_Item] = field(default_factory=list)


def summarize(old: Mapping[str, Model], new: Mapping[str, Model]) -> str:
    """Markdown summary of the changes from `old` to `new` (uid -> dashboard model), or NO_CHANGES."""
    sections = []
    for uid in sorted(set(old) | set(new)):
        items = _dashboard_items(old.get(uid), new.get(uid))
        if items:
            title = (new.get(uid) or old.get(uid) or {}).get("title") or uid
            body = "\n".join(line for item in items for line in _render(item, 0))
            sections.append(f"### {_text(str(title))} ({_code(uid)})\n\n{body}")
    return "\n\n".join(sections) if sections else NO_CHANGES


# --- dashboards ---------------------------------------------------------------


def _dashboard_items(old: Model | None, new: Model | None) -> list[_Item]:
    if new is None:
        assert old is not None
        panels = _panels(old)
        titles = ", ".join(_panel_name(p) for p in panels.values())
        return [_Item([f"Dashboard removed ({len(panels)} panels: {titles})" if panels else "Dashboard removed"])]
    if old is None:
        return [_Item(["Dashboard added"]), *_variable_items({}, new), *_panel_items({}, new)]
    items = []
    if old.get("title", MISSING) != new.get("title", MISSING):
        items.append(_change("Dashboard title", old.get("title", MISSING), new.get("title", MISSING)))
    for key in sorted((set(old) | set(new)) - _DASHBOARD_REPORTED):
        if old.get(key, MISSING) != new.get(key, MISSING):
            items.append(_change(f"Dashboard {_code(key)}", old.get(key, MISSING), new.get(key, MISSING)))
    return items + _variable_items(old, new) + _panel_items(old, new)


def _variables(model: Model) -> dict[str, Mapping[str, Any]]:
    variables = (model.get("templating") or {}).get("list") or []
    by_name: dict[str, Mapping[str, Any]] = {}
    for variable in variables:
        name = str(variable.get("name", ""))
        if name in by_name:
            raise ValueError(f"dashboard {model.get('uid')!r}: two variables named {name!r}")
        by_name[name] = variable
    return by_name


def _variable_items(old: Model, new: Model) -> list[_Item]:
    before, after = _variables(old), _variables(new)
    items = []
    common_before = [name for name in before if name in after]
    common_after = [name for name in after if name in before]
    if common_before != common_after:
        items.append(_Item([f"Variable order: {', '.join(map(_code, common_before))} → "
                            f"{', '.join(map(_code, common_after))}"]))
    # Variables in the new dashboard's order, then the removed ones in the old dashboard's.
    for name in [*after, *(n for n in before if n not in after)]:
        label = f"Variable {_code(name)}"
        if name not in before:
            items.append(_value(f"{label} added", after[name].get("query", MISSING), "+"))
        elif name not in after:
            items.append(_Item([f"{label} removed"]))
        else:
            changes = [_change(_code(key), before[name].get(key, MISSING), after[name].get(key, MISSING))
                       for key in sorted(set(before[name]) | set(after[name]))
                       if before[name].get(key, MISSING) != after[name].get(key, MISSING)]
            if changes:
                items.append(_Item([f"{label} changed:"], changes))
    return items


# --- panels -------------------------------------------------------------------


def _panels(model: Model) -> dict[int, Mapping[str, Any]]:
    """id -> panel, the panels of collapsed rows included, in id order."""
    found: dict[int, Mapping[str, Any]] = {}
    for panel in model.get("panels") or []:
        for inner in [panel, *(panel.get("panels") or [])]:
            panel_id = inner.get("id")
            if not isinstance(panel_id, int) or isinstance(panel_id, bool):
                raise ValueError(f"dashboard {model.get('uid')!r}: panel {inner.get('title')!r} has no integer id")
            if panel_id in found:
                raise ValueError(f"dashboard {model.get('uid')!r}: two panels with id {panel_id}")
            found[panel_id] = inner
    return dict(sorted(found.items()))


def _panel_name(panel: Mapping[str, Any]) -> str:
    return f"{panel['id']} **{_text(str(panel.get('title', '')))}**"


def _panel_items(old: Model, new: Model) -> list[_Item]:
    before, after = _panels(old), _panels(new)
    items = []
    for panel_id in sorted(set(before) | set(after)):
        if panel_id not in before:
            items.append(_added_panel(after[panel_id]))
        elif panel_id not in after:
            items.append(_Item([f"Panel {_panel_name(before[panel_id])} removed ({before[panel_id].get('type')})"]))
        else:
            changes = _panel_changes(before[panel_id], after[panel_id])
            if changes:
                items.append(_Item([f"Panel {_panel_name(after[panel_id])}:"], changes))
    return items


def _added_panel(panel: Mapping[str, Any]) -> _Item:
    details = [str(panel.get("type"))]
    defaults = _defaults(panel)
    if "unit" in defaults:
        details.append(f"unit {_code(str(defaults['unit']))}")
    if "thresholds" in defaults:
        details.append(f"thresholds {_code(_thresholds(defaults['thresholds']))}")
    queries = [_value(f"query {_code(ref_id)}", target.get("expr", MISSING), "+")
               for ref_id, target in _targets(panel).items()]
    return _Item([f"Panel {_panel_name(panel)} added ({', '.join(details)})"], queries)


def _defaults(panel: Mapping[str, Any]) -> Mapping[str, Any]:
    defaults: Mapping[str, Any] = (panel.get("fieldConfig") or {}).get("defaults") or {}
    return defaults


def _thresholds(thresholds: Any) -> str:
    """`base green, 80 red` (with the mode named when it is not absolute)."""
    if not isinstance(thresholds, Mapping):
        return _plain(thresholds)
    steps = ", ".join(("base" if step.get("value") is None else _plain(step.get("value"))) + f" {step.get('color')}"
                      for step in thresholds.get("steps") or [])
    mode = thresholds.get("mode", "absolute")
    return steps if mode == "absolute" else f"{steps} ({mode})"


def _panel_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[_Item]:
    items = []
    for key in ("title", "type"):
        if old.get(key, MISSING) != new.get(key, MISSING):
            items.append(_change(key, old.get(key, MISSING), new.get(key, MISSING)))
    old_defaults, new_defaults = _defaults(old), _defaults(new)
    if old_defaults.get("unit", MISSING) != new_defaults.get("unit", MISSING):
        items.append(_change("unit", old_defaults.get("unit", MISSING), new_defaults.get("unit", MISSING)))
    old_thresholds, new_thresholds = old_defaults.get("thresholds", MISSING), new_defaults.get("thresholds", MISSING)
    if old_thresholds != new_thresholds:
        items.append(_change("thresholds", *(t if t is MISSING else _thresholds(t)
                                              for t in (old_thresholds, new_thresholds))))
    items += _query_items(_targets(old), _targets(new))
    also = [_code(key) for key in _other_differences(old, new)]
    if also:
        items.append(_Item([f"also changed: {', '.join(also)}"]))
    return items


def _other_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted paths of the differing panel keys that have no line of their own."""
    paths = [key for key in sorted((set(old) | set(new)) - _PANEL_REPORTED)
             if old.get(key, MISSING) != new.get(key, MISSING)]
    old_config, new_config = old.get("fieldConfig") or {}, new.get("fieldConfig") or {}
    for key in sorted((set(old_config) | set(new_config)) - {"defaults"}):
        if old_config.get(key, MISSING) != new_config.get(key, MISSING):
            paths.append(f"fieldConfig.{key}")
    old_defaults, new_defaults = _defaults(old), _defaults(new)
    for key in sorted((set(old_defaults) | set(new_defaults)) - _DEFAULTS_REPORTED):
        if old_defaults.get(key, MISSING) != new_defaults.get(key, MISSING):
            paths.append(f"fieldConfig.defaults.{key}")
    return paths


# --- queries ------------------------------------------------------------------


def _targets(panel: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    by_ref: dict[str, Mapping[str, Any]] = {}
    for target in panel.get("targets") or []:
        ref_id = str(target.get("refId", ""))
        if ref_id in by_ref:
            raise ValueError(f"panel {panel.get('id')} {panel.get('title')!r}: two queries with refId {ref_id!r}")
        by_ref[ref_id] = target
    return dict(sorted(by_ref.items()))


def _query_items(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> list[_Item]:
    items = []
    for ref_id in sorted(set(before) | set(after)):
        label = f"query {_code(ref_id)}"
        if ref_id not in before:
            items.append(_value(f"{label} added", after[ref_id].get("expr", MISSING), "+"))
            continue
        if ref_id not in after:
            items.append(_value(f"{label} removed", before[ref_id].get("expr", MISSING), "-"))
            continue
        old, new = before[ref_id], after[ref_id]
        if old.get("expr", MISSING) != new.get("expr", MISSING):
            items.append(_change(f"{label} expr", old.get("expr", MISSING), new.get("expr", MISSING)))
        if old.get("legendFormat", MISSING) != new.get("legendFormat", MISSING):
            items.append(_change(f"{label} legend", old.get("legendFormat", MISSING), new.get("legendFormat", MISSING)))
        also = [_code(key) for key in sorted((set(old) | set(new)) - _TARGET_REPORTED)
                if old.get(key, MISSING) != new.get(key, MISSING)]
        if also:
            items.append(_Item([f"{label} also changed: {', '.join(also)}"]))
    return items


# --- Markdown -----------------------------------------------------------------


def _change(label: str, old: Any, new: Any) -> _Item:
    """`label: old → new` inline when both are short, else both whole in a diff block (MISSING shows as unset)."""
    old_text, new_text = _plain(old), _plain(new)
    if _inline(old_text) and _inline(new_text):
        return _Item([f"{label}: {_span(old)} → {_span(new)}"])
    if old is MISSING or new is MISSING:
        return _Item([f"{label}:", *_diff_block(None if old is MISSING else old_text,
                                                None if new is MISSING else new_text)])
    return _Item([f"{label} ({_fragments(old_text, new_text)}):", *_diff_block(old_text, new_text)])


def _value(label: str, value: Any, sign: str) -> _Item:
    """What an added (sign `+`) or removed (`-`) thing holds: inline when short, else in a diff block."""
    if value is MISSING:
        return _Item([label])
    text = _plain(value)
    if _inline(text):
        return _Item([f"{label}: {_span(value)}"])
    return _Item([f"{label}:", *_diff_block(text if sign == "-" else None, text if sign == "+" else None)])


def _inline(text: str) -> bool:
    return len(text) <= INLINE_LIMIT and "\n" not in text


def _span(value: Any) -> str:
    return "(unset)" if value is MISSING else _code(_plain(value))


def _fragments(old: str, new: str) -> str:
    """The changed fragments of two long values, token by token: `"idle"` → `"user"`, ..."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < REWRITE_RATIO:
        return "rewritten"
    parts = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(a[i1:i2]).strip(), "".join(b[j1:j2]).strip()
        if tag == "replace":
            parts.append(f"{_code(removed)} → {_code(added)}" if removed and added
                         else f"removed {_code(removed)}" if removed else f"added {_code(added)}")
        elif tag == "delete" and removed:
            parts.append(f"removed {_code(removed)}")
        elif tag == "insert" and added:
            parts.append(f"added {_code(added)}")
    if not parts:
        return "whitespace"
    shown = [_shorten(part) for part in parts[:FRAGMENT_LIMIT]]
    more = len(parts) - FRAGMENT_LIMIT
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _shorten(fragment: str) -> str:
    """A fragment too long for the line is only announced: the diff block below has it whole."""
    return fragment if len(fragment) <= INLINE_LIMIT else "a longer change"


def _diff_block(old: str | None, new: str | None) -> list[str]:
    lines = [f"- {line}" for line in (old.splitlines() if old is not None else [])]
    lines += [f"+ {line}" for line in (new.splitlines() if new is not None else [])]
    longest_run = max((len(run) for run in re.findall(r"`+", "\n".join(lines))), default=0)
    fence = "`" * max(3, longest_run + 1)
    return [f"{fence}diff", *lines, fence]


def _plain(value: Any) -> str:
    """A value as text: strings as they are, anything else as compact JSON."""
    if value is MISSING:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _code(text: str) -> str:
    """An inline code span that holds any text, backticks included."""
    if text == "":
        return "(empty)"
    longest_run = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest_run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _text(text: str) -> str:
    """Plain text with Markdown's special characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _render(item: _Item, depth: int) -> Iterator[str]:
    indent = "  " * depth
    first, *rest = item.lines
    yield f"{indent}- {first}"
    # Continuation lines (a diff block) start at the item's content column to stay inside it.
    yield from (f"{indent}  {line}" for line in rest)
    for child in item.children:
        yield from _render(child, depth + 1)


__all__ = ["INLINE_LIMIT", "MISSING", "NO_CHANGES", "Model", "summarize"]
