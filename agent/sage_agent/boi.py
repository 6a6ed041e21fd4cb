"""The real backend: Sage 100's Business Object Interface over COM (a later issue).

It will hold a pool of ``ProvideX.Script`` -> ``SY_Session`` sessions (``Busy`` when all are in use), read with
``*_svc`` objects and write with ``*_bus`` objects, mapping ``sLastErrorMsg`` to the exceptions of
``sage_agent.backend``. Fault controls never exist for it.
"""

from __future__ import annotations

import sys
from pathlib import Path


class BoiBackendUnavailable(RuntimeError):
    pass


def open_boi_backend(company_code: str, sage_home: Path) -> None:
    """Always raises until the BOI backend is built."""
    where = "Windows" if sys.platform == "win32" else f"{sys.platform} (BOI needs Windows + Sage 100)"
    raise BoiBackendUnavailable(
        f"company {company_code}: the BOI backend needs Windows + Sage 100 ({sage_home}) and is not "
        f'implemented yet on {where}; use kind = "simulated" for now'
    )
