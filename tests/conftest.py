"""Fixtures shared by every test folder: the local stack (moto server mode, resources from template.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_local.session import LocalStack, local_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One deployed local stack per test session. Tests that write customers use unique customer ids."""
    with local_stack(tmp_path_factory.mktemp("local-stack")) as running:
        yield running


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fresh_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of the module's own, for tests that assert on everything in a table or queue."""
    with local_stack(tmp_path_factory.mktemp("fresh-stack")) as running:
        yield running
