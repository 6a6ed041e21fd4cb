"""The COM seam: what the BOI backend needs from COM, and pywin32's implementation of it (imported lazily).

Every COM call of the backend goes through objects returned by ``ComRuntime.dispatch``; tests give it the fake
ProvideX object model instead. ``initialize_thread`` / ``uninitialize_thread`` bracket each session thread
(``CoInitialize`` per thread: the ProvideX objects are apartment-threaded).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Any, Protocol


class ComRuntime(Protocol):
    @property
    def error_types(self) -> tuple[type[BaseException], ...]:
        """Exceptions that mean the COM call itself failed (the session is then recycled)."""
        ...

    def initialize_thread(self) -> None: ...

    def uninitialize_thread(self) -> None: ...

    def dispatch(self, prog_id: str) -> Any: ...


class ComUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Win32Runtime:
    """pywin32: ``pythoncom.CoInitialize`` and ``win32com.client.Dispatch``."""

    _pythoncom: Any
    _client: Any
    error_types: tuple[type[BaseException], ...]

    def initialize_thread(self) -> None:
        self._pythoncom.CoInitialize()

    def uninitialize_thread(self) -> None:
        self._pythoncom.CoUninitialize()

    def dispatch(self, prog_id: str) -> Any:
        return self._client.Dispatch(prog_id)


def win32_runtime() -> Win32Runtime:
    """pywin32's runtime; ``ComUnavailable`` with one sentence off Windows or without pywin32."""
    if sys.platform != "win32":
        raise ComUnavailable(
            f"the BOI backend needs Windows with Sage 100 installed (this is {sys.platform}); "
            'use kind = "simulated" here'
        )
    try:
        pythoncom = importlib.import_module("pythoncom")
        client = importlib.import_module("win32com.client")
        pywintypes = importlib.import_module("pywintypes")
    except ImportError:
        raise ComUnavailable(
            "pywin32 is not installed; run `pip install -r requirements/agent.txt` with the agent's Python"
        ) from None
    return Win32Runtime(pythoncom, client, (pywintypes.com_error,))
