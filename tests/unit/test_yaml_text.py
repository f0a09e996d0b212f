"""components/yaml_text.py: what it writes (with libyaml's emitter) reads back exactly, credentials,
templates and any text a config value can hold included."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.yaml_text import dump_plain_yaml, dump_yaml


@settings(database=None, max_examples=300)
@given(st.dictionaries(st.text(min_size=1), st.text() | st.lists(st.text(), max_size=3), max_size=5))
def test_any_text_reads_back_as_written(document):
    assert yaml.safe_load(dump_yaml(document)) == (document or {})


# What the rendered configs hold: mappings and lists of text, numbers, booleans and nulls.
_SCALARS = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
_DOCUMENTS = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                          max_leaves=10)


@settings(database=None, max_examples=300)
@given(st.dictionaries(st.text(), _DOCUMENTS, max_size=4), st.booleans())
def test_plain_yaml_reads_back_as_written(document, sort_keys):
    assert yaml.safe_load(dump_plain_yaml(document, sort_keys=sort_keys)) == (document or {})


@settings(database=None, max_examples=300)
@given(st.dictionaries(st.text(), _DOCUMENTS, max_size=4))
def test_block_yaml_reads_back_nested_documents(document):
    assert yaml.safe_load(dump_yaml(document)) == (document or {})


def test_unicode_line_breaks_survive():
    # Written raw, NEL, LS and PS would be read back as spaces: a password would silently change.
    for value in ("a\x85b", "a\u2028b", "a\u2029b", "line 1\nline 2\x85"):
        assert yaml.safe_load(dump_yaml({"auth_password": value})) == {"auth_password": value}


def test_multi_line_strings_are_blocks():
    assert "expr: |" in dump_yaml({"expr": "up\n== 0"})
