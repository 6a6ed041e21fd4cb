"""Named points in the sync where a test can stop the process, as Lambda would at its timeout, or (at
``budget.check``) declare the time budget spent, as a slow invocation would find it.

Production installs no hook, so ``reach`` costs one attribute read and answers False. The local stack's worker
installs one (see ``ml_local.lambda_worker``) when a test names points to crash at or asks for a short budget; tests
never race a timeout to land a crash or a continuation.

Points:
    invoice.created          AvidXchange created the invoice; no state written yet
    invoice.image_chunk      one chunk of an invoice image was handed to the upload
    invoice.image_uploaded   the image upload answered; no state written yet
    payment.posted           Sage recorded the manual check; no state written yet
    record.done              a record of a page reached its final state (mid-page)
    budget.check             a stage asked its time budget whether to go on
"""

from __future__ import annotations

from collections.abc import Callable

Hook = Callable[[str], bool]
"""Called at every point; True means "stop here" (only ``budget.check`` asks)."""

_hook: Hook | None = None


def install(hook: Hook | None) -> None:
    """Set (or, with None, remove) the one hook every ``reach`` calls."""
    global _hook  # noqa: PLW0603 - one process-wide test hook, set once by the local worker
    _hook = hook


def reach(point: str) -> bool:
    """Whether the hook says to stop at ``point`` (the time budget is spent, at ``budget.check``)."""
    return _hook is not None and _hook(point)
