"""The agent as a Windows service (pywin32's service framework), imported only on Windows when asked for.

``sage-agent service install --config C:\\ml-connector\\agent\\agent.toml`` registers the service (start type
automatic) and stores the config path in the service's registry parameters; ``start``, ``stop`` and ``remove``
do what they say. The service runs the same server as ``sage-agent serve`` and stops it gracefully.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from sage_agent.config import ConfigError, load_config
from sage_agent.runtime import build_agent, server_for

SERVICE_NAME = "SageAgentMlConnector"
DISPLAY_NAME = "Sage 100 agent (ml-connector)"
DESCRIPTION = "Serves Sage 100 accounts payable to the ml-connector over HTTPS (contract v1)."
CONFIG_OPTION = "config"
ACTIONS = ("install", "remove", "start", "stop")


def _pywin32() -> tuple[Any, Any, Any]:
    if sys.platform != "win32":
        raise ConfigError(f"the Windows service commands need Windows (this is {sys.platform}); use `serve` here")
    try:
        return (
            importlib.import_module("win32serviceutil"),
            importlib.import_module("win32service"),
            importlib.import_module("servicemanager"),
        )
    except ImportError:
        raise ConfigError(
            "pywin32 is not installed; run `pip install -r requirements/agent.txt` with the agent's Python"
        ) from None


def service_command(action: str, config: Path | None) -> int:
    """``install`` (needs ``config``), ``remove``, ``start`` or ``stop`` the service."""
    serviceutil, _, _ = _pywin32()
    service_class = _service_class()
    if action == "install":
        if config is None or not config.is_file():
            raise ConfigError("service install needs --config with the path of an existing agent.toml")
        serviceutil.InstallService(
            f"{service_class.__module__}.{service_class.__name__}",
            SERVICE_NAME,
            DISPLAY_NAME,
            startType=2,  # SERVICE_AUTO_START
            exeName=sys.executable,
            exeArgs="-m sage_agent.windows_service",
            description=DESCRIPTION,
        )
        serviceutil.SetServiceCustomOption(SERVICE_NAME, CONFIG_OPTION, str(config.resolve()))
    elif action == "remove":
        serviceutil.RemoveService(SERVICE_NAME)
    elif action == "start":
        serviceutil.StartService(SERVICE_NAME)
    else:
        serviceutil.StopService(SERVICE_NAME)
    print(f"service {SERVICE_NAME}: {action} done")
    return 0


def _service_class() -> Any:
    serviceutil, win32service, servicemanager = _pywin32()

    framework: Any = serviceutil.ServiceFramework

    class AgentService(framework):  # type: ignore[misc]
        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = DISPLAY_NAME
        _svc_description_ = DESCRIPTION

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            self._server: Any = None

        def SvcStop(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
            if self._server is not None:
                self._server.should_exit = True

        def SvcDoRun(self) -> None:
            config_path = Path(serviceutil.GetServiceCustomOption(SERVICE_NAME, CONFIG_OPTION))
            servicemanager.LogInfoMsg(f"{SERVICE_NAME}: starting with {config_path}")
            try:
                self._server = server_for(build_agent(load_config(config_path)))
            except ConfigError as error:
                servicemanager.LogErrorMsg(f"{SERVICE_NAME}: {error}")
                return
            self._server.run()

    AgentService.__module__ = __name__
    AgentService.__qualname__ = "AgentService"
    return AgentService


def main() -> None:
    """What the service control manager runs (``python -m sage_agent.windows_service``)."""
    servicemanager = _pywin32()[2]
    servicemanager.Initialize()
    servicemanager.PrepareToHostSingle(_service_class())
    servicemanager.StartServiceCtrlDispatcher()


if __name__ == "__main__":
    main()
