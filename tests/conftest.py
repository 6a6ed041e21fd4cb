"""Fixtures shared by every test folder: the local stack (moto server mode, resources from template.yaml). And the
`slow` marker, put here on every test that runs the whole system, so `-m "not slow"` is the fast lane."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_local.session import LocalStack, local_stack

TESTS = Path(__file__).resolve().parent
# Folders whose every test is slow without asking for a stack fixture: e2e holds the demo (the whole system in a
# subprocess), report drives a real headless Chromium.
SLOW_FOLDERS = (TESTS / "e2e", TESTS / "report")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `slow` every test that runs on a local stack (moto server, the deployed template, worker processes):
    it asks, itself or through another fixture, for a fixture declared to return a ``LocalStack`` (``stack``,
    ``fresh_stack``, a module's own); and every test in ``SLOW_FOLDERS``."""
    for item in items:
        if _uses_a_local_stack(item) or any(item.path.is_relative_to(folder) for folder in SLOW_FOLDERS):
            item.add_marker(pytest.mark.slow)


def _uses_a_local_stack(item: pytest.Item) -> bool:
    if not isinstance(item, pytest.Function):
        return False
    return any(
        # The annotation as written (a string under `from __future__ import annotations`): Iterator[LocalStack].
        "LocalStack" in str(inspect.signature(definitions[-1].func).return_annotation)
        for definitions in item._fixtureinfo.name2fixturedefs.values()
    )
