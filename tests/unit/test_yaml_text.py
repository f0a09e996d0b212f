"""components/yaml_text.py: what it writes reads back exactly (credentials and templates included)."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.yaml_text import dump_yaml


@settings(database=None, max_examples=300)
@given(st.dictionaries(st.text(min_size=1), st.text() | st.lists(st.text(), max_size=3), max_size=5))
def test_any_text_reads_back_as_written(document):
    assert yaml.safe_load(dump_yaml(document)) == (document or {})


def test_unicode_line_breaks_survive():
    # Written raw, NEL, LS and PS would be read back as spaces: a password would silently change.
    for value in ("a\x85b", "a\u2028b", "a\u2029b", "line 1\nline 2\x85"):
        assert yaml.safe_load(dump_yaml({"auth_password": value})) == {"auth_password": value}


def test_multi_line_strings_are_blocks():
    assert "expr: |" in dump_yaml({"expr": "up\n== 0"})
