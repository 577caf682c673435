"""The benchmark's bulk data set is what the services would write: ``bench._dataset``
generates the README's benchmark population with raw INSERTs, and ``bench._dataset_check``
builds the same small population both ways and compares every table row by row. 100
visitors cover every visitor profile once (profiles repeat every 100 visitors)."""

from __future__ import annotations

from pathlib import Path

from bench._dataset import Population
from bench._dataset_check import verify


def test_bulk_data_set_matches_the_services_row_by_row(tmp_path: Path) -> None:
    assert verify(tmp_path, Population(visitors=100, employees=4, escorts=2)) == []
