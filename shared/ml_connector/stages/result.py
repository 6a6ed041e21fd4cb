"""What a stage run reports back to the runner."""

from __future__ import annotations

from dataclasses import dataclass

from ml_connector.state.models import RunCounts


@dataclass(frozen=True)
class StageResult:
    complete: bool
    """False when the time budget ran low: a continuation must be queued."""
    counts: RunCounts
    errors: tuple[str, ...] = ()
