"""The real backend: Sage 100's Business Object Interface (ProvideX COM) on the Windows Sage server.

pywin32 is imported only when a BOI company is opened on Windows (``sage_agent.boi.com.win32_runtime``); the
fake ProvideX object model in ``sage_agent.boi.fake`` stands in for it in tests on any platform.
"""

from sage_agent.boi.backend import BoiBackend, BoiSettings
from sage_agent.boi.session import BoiStartupRefused

__all__ = ["BoiBackend", "BoiSettings", "BoiStartupRefused"]
