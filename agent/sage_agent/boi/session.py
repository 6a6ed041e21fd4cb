"""One BOI session: ``ProvideX.Script`` -> ``Init(home)`` -> ``SY_Session`` logged in to one company and the
A/P module, and the business objects created under it (each after ``nSetProgram(nLookupTask(task))``)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sage_agent.backend import BackendFailure
from sage_agent.boi.calls import SUCCESS, last_error, sage_date
from sage_agent.boi.com import ComRuntime
from sage_agent.boi.names import AP_MODULE, SCRIPT_PROG_ID, SESSION_CLASS, BoiObject


class BoiStartupRefused(Exception):
    """Sage refused the agent's login or a task; the message names the Sage setting to change."""


@dataclass(frozen=True)
class Login:
    sage_home: Path
    user: str
    password: str
    company: str


class BoiSession:
    """A logged-in ``SY_Session``. Not thread-safe: one session belongs to one thread."""

    def __init__(self, runtime: ComRuntime, login: Login, module_date: dt.date) -> None:
        self.opened_at = time.monotonic()
        self.module_date = module_date
        self._script = runtime.dispatch(SCRIPT_PROG_ID)
        self._script.Init(str(login.sage_home))
        self._session = self._script.NewObject(SESSION_CLASS)
        try:
            self._login(login, module_date)
        except BaseException:
            self.close()
            raise

    def _login(self, login: Login, module_date: dt.date) -> None:
        session = self._session
        if session.nSetUser(login.user, login.password) != SUCCESS:
            reason = last_error(session)
            if "external access" in reason.lower():
                raise BoiStartupRefused(
                    f'Sage 100 refused user {login.user}: turn on "Allow External Access" for that user in '
                    f"User Maintenance (Sage said: {reason})"
                )
            raise BoiStartupRefused(
                f"Sage 100 refused user {login.user}: check the user code and password in User Maintenance "
                f"and the agent's password_file (Sage said: {reason})"
            )
        if session.nSetCompany(login.company) != SUCCESS:
            raise BoiStartupRefused(
                f"Sage 100 refused company {login.company} for user {login.user}: give the user access to the "
                f"company in User Maintenance (Sage said: {last_error(session)})"
            )
        if session.nSetDate(AP_MODULE, sage_date(module_date)) != SUCCESS or session.nSetModule(AP_MODULE) != SUCCESS:
            raise BoiStartupRefused(
                f"Sage 100 refused the Accounts Payable module in company {login.company}: install and set up "
                f"A/P for the company and allow the user's role to use it (Sage said: {last_error(session)})"
            )

    def allow_task(self, task: str) -> None:
        """``nSetProgram(nLookupTask(task))``; a refusal names the role permission to grant."""
        session = self._session
        task_id = session.nLookupTask(task)
        if not task_id or session.nSetProgram(task_id) == 0:
            raise BoiStartupRefused(
                f"Sage 100 refused task {task} for the agent's user: grant it in Role Maintenance "
                f"(Sage said: {last_error(session) or 'no access'})"
            )

    @contextmanager
    def open(self, boi_object: BoiObject) -> Iterator[Any]:
        """A business object under this session; dropped when the block ends."""
        try:
            self.allow_task(boi_object.task)
        except BoiStartupRefused as refused:
            raise BackendFailure(str(refused)) from None
        obj = self._script.NewObject(boi_object.name, self._session)
        if obj is None:
            raise BackendFailure(f"Sage 100 could not create {boi_object.name}: {last_error(self._session)}")
        try:
            yield obj
        finally:
            obj.DropObject()

    def close(self) -> None:
        """``nCleanup`` and ``DropObject`` of the session."""
        self._session.nCleanup()
        self._session.DropObject()
