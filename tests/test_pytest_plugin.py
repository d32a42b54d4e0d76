"""The pytest plugin's access_matrix helper: fails on the legacy leaks, passes once the policy is in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import apply

from consolidation.pytest_plugin import LocalDatabase


def test_access_matrix_fails_on_leaks_then_passes(
    legacy_db: LocalDatabase, access_matrix: Callable[..., object]
) -> None:
    with pytest.raises(AssertionError, match="LEAK outsider"):
        access_matrix(legacy_db.url)
    apply(legacy_db, "policies", force_order=True)
    access_matrix(legacy_db.url)
