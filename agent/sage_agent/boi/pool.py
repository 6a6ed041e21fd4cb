"""A pool of BOI sessions, one per worker thread (COM objects stay in the thread that created them).

``run(job)`` hands ``job(session)`` to an idle worker and waits for its result. When no worker is idle
within ``wait_seconds`` the call answers ``Busy`` (503 with Retry-After). A worker opens its session
lazily, replaces it once it is older than ``max_age_seconds``, and drops it after any COM error.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

from sage_agent.backend import BackendFailure, Busy
from sage_agent.boi.com import ComRuntime
from sage_agent.boi.session import BoiSession, Login

log = logging.getLogger("sage_agent.boi")
T = TypeVar("T")
Job = Callable[[BoiSession], object]


@dataclass(frozen=True)
class PoolSettings:
    size: int = 4
    max_age_seconds: float = 1800.0
    wait_seconds: float = 2.0
    busy_retry_after: int = 2


class _Worker:
    def __init__(self, pool: SessionPool, number: int) -> None:
        self._pool = pool
        self._jobs: queue.SimpleQueue[tuple[Job, Future[object]] | None] = queue.SimpleQueue()
        self._session: BoiSession | None = None
        self._thread = threading.Thread(target=self._serve, name=f"boi-session-{number}", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> Future[object]:
        done: Future[object] = Future()
        self._jobs.put((job, done))
        return done

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        runtime = self._pool.runtime
        runtime.initialize_thread()
        try:
            while (item := self._jobs.get()) is not None:
                job, done = item
                outcome: object = None
                failed: BaseException | None = None
                try:
                    outcome = job(self._fresh_session())
                except runtime.error_types as error:
                    self._drop_session()
                    failed = BackendFailure(f"COM error talking to Sage 100: {error}")
                except BaseException as error:
                    failed = error
                self._pool.release(self)
                if failed is None:
                    done.set_result(outcome)
                else:
                    done.set_exception(failed)
            self._drop_session()
        finally:
            runtime.uninitialize_thread()

    def _fresh_session(self) -> BoiSession:
        settings = self._pool.settings
        if self._session is not None and time.monotonic() - self._session.opened_at > settings.max_age_seconds:
            self._drop_session()
        today = self._pool.today()
        if self._session is not None and self._session.module_date != today:
            self._drop_session()
        if self._session is None:
            self._session = BoiSession(self._pool.runtime, self._pool.login, today)
        return self._session

    def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except self._pool.runtime.error_types as error:
                log.warning("closing a BOI session failed: %s", error)


class SessionPool:
    def __init__(self, runtime: ComRuntime, login: Login, settings: PoolSettings, today: Callable[[], dt.date]) -> None:
        self.runtime = runtime
        self.login = login
        self.settings = settings
        self.today = today
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers = [_Worker(self, number) for number in range(settings.size)]
        for worker in self._workers:
            self._idle.put(worker)

    def run(self, job: Callable[[BoiSession], T]) -> T:
        wait = self.settings.wait_seconds
        try:
            worker = self._idle.get(timeout=wait) if wait else self._idle.get_nowait()
        except queue.Empty:
            raise Busy(
                f"all {self.settings.size} Sage 100 sessions are in use; retry shortly", self.settings.busy_retry_after
            ) from None
        return worker.submit(job).result()  # type: ignore[return-value]

    def release(self, worker: _Worker) -> None:
        self._idle.put(worker)

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
