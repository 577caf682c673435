"""Simplified Chinese for every page string (web.i18n): English text -> Chinese.

Filled from the strings the templates and page views pass to ``_()``/``translate()``;
tests/unit/test_i18n_catalogue.py fails when one is missing.
"""

from __future__ import annotations

ZH: dict[str, str] = {
}
