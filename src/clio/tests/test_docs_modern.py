"""The examples of docs/modern.rst run, against SQLite."""

from __future__ import annotations

import doctest
import os

import pytest

from clio.model import VersionMethods

DOC = os.path.join(
    os.path.dirname(__file__), os.pardir, os.pardir, os.pardir, "docs", "modern.rst"
)


def test_modern_rst_examples(monkeypatch):
    if not os.path.exists(DOC):  # an installed package ships no docs
        pytest.skip(f"{DOC} not found")
    # The page uses the real clock; the autouse test clock is fine too, but
    # the page must not depend on it.
    monkeypatch.setattr(VersionMethods, "_now", VersionMethods.__dict__["_now"])
    failures, tried = doctest.testfile(
        DOC,
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        encoding="utf-8",
    )
    assert tried > 30
    assert failures == 0
