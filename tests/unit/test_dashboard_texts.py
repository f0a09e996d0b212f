"""dashboard_texts(): what the program uploads, built once per process."""

from __future__ import annotations

import pytest

from dashboards import DASHBOARD_UIDS, build_dashboards, dashboard_json, dashboard_texts


def test_the_texts_are_the_json_of_freshly_built_models():
    texts = dashboard_texts()
    assert list(texts) == list(DASHBOARD_UIDS)
    assert dict(texts) == {uid: dashboard_json(model) for uid, model in build_dashboards().items()}


def test_built_once_and_read_only():
    # One copy for every run of the program in a process: no caller may change it for the next.
    assert dashboard_texts() is dashboard_texts()
    with pytest.raises(TypeError):
        dashboard_texts()["probes"] = "{}"  # type: ignore[index]
