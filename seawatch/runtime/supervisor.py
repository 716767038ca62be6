"""Supervised tasks: every long-running task named, watched, restarted, and visible in health.

Policy (docs/delivery.md, "Alert channels and supervision"):

* A **worker** (a sink, the webhook dispatcher, the idle ticker, the figures line …)
  that raises is logged, marked ``restarting`` with its error, and started again after
  a full-jitter exponential backoff (``restart_min_s`` doubling up to ``restart_max_s``;
  1 s to 60 s by default). It is restarted for as long as the service runs: ingest and
  the other tasks never wait for it.
* The **source** is restarted the same way (the MQTT source reconnects by itself when
  the broker is away; what reaches the supervisor is anything else). After
  ``source_max_failures`` failures in a row (5 by default; a run of ``healthy_after_s``,
  60 s, without failing clears the count) the supervisor gives up: the runtime stops
  and raises :class:`SourceFailedError`, and ``seawatch run`` exits with status 4.
* An **essential** task (the web server) ending for any reason stops the runtime; its
  error, if any, is raised once everything has stopped.

A task's state is one of ``running``, ``restarting`` (waiting for its next start),
``failed`` (given up: the source after too many failures), ``done`` (returned) or
``stopped``; with it, the time it entered that state, its restarts, its last error
and, while failures go on, when they began (``failing_since``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from seawatch.adapters.mqtt import Backoff
from seawatch.adapters.sink import describe_error

log = logging.getLogger(__name__)

TaskFactory = Callable[[], Coroutine[Any, Any, object]]


class Policy(StrEnum):
    WORKER = "worker"  # restarted for ever
    SOURCE = "source"  # restarted up to source_max_failures in a row, then the runtime stops
    ESSENTIAL = "essential"  # its end is the runtime's end


class SourceFailedError(RuntimeError):
    """The source could not run after the documented number of restarts in a row."""


@dataclass(slots=True)
class TaskStatus:
    """One supervised task as ``/healthz`` shows it."""

    name: str
    policy: Policy
    state: str = "running"
    since: datetime | None = None
    restarts: int = 0
    failures_in_row: int = 0
    last_error: str | None = None
    failing_since: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.state in ("restarting", "failed") or self.failing_since is not None

    def view(self) -> dict[str, object]:
        return {
            "state": self.state,
            "since": None if self.since is None else self.since.isoformat(),
            "restarts": self.restarts,
            "last_error": self.last_error,
            "failing_since": None if self.failing_since is None else self.failing_since.isoformat(),
        }


class Supervisor:
    """Runs named tasks in one TaskGroup and applies the restart policy to each."""

    def __init__(
        self,
        *,
        restart_min_s: float = 1.0,
        restart_max_s: float = 60.0,
        source_max_failures: int = 5,
        healthy_after_s: float = 60.0,
    ) -> None:
        self.restart_min_s = restart_min_s
        self.restart_max_s = restart_max_s
        self.source_max_failures = source_max_failures
        self.healthy_after_s = healthy_after_s
        self.tasks: dict[str, TaskStatus] = {}
        self.stopping = asyncio.Event()  # set when an essential task ended or the source gave up
        self.fatal: BaseException | None = None
        self._group: asyncio.TaskGroup | None = None
        self._running: dict[str, asyncio.Task[None]] = {}

    async def __aenter__(self) -> Supervisor:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for task in self._running.values():
            task.cancel()
        group, self._group = self._group, None
        assert group is not None
        await group.__aexit__(*exc)

    def start(self, name: str, factory: TaskFactory, policy: Policy = Policy.WORKER) -> asyncio.Task[None]:
        """Run ``factory()`` as the task ``name`` under ``policy``."""
        assert self._group is not None, "start tasks inside `async with supervisor`"
        status = self.tasks[name] = TaskStatus(name, policy, since=datetime.now(UTC))
        task = self._group.create_task(self._supervise(status, factory), name=name)
        self._running[name] = task
        return task

    async def stop(self, names: list[str] | None = None, timeout_s: float = 20.0) -> None:
        """Cancel these tasks (all if None) and wait for them to end."""
        chosen = [t for n, t in self._running.items() if names is None or n in names]
        for task in chosen:
            task.cancel()
        if chosen:
            await asyncio.wait(chosen, timeout=timeout_s)

    @property
    def failing(self) -> list[TaskStatus]:
        """Tasks restarting, given up, or not yet running ``healthy_after_s`` since their last failure."""
        return [s for s in self.statuses().values() if s.failing]

    def statuses(self) -> dict[str, TaskStatus]:
        now = datetime.now(UTC)
        for status in self.tasks.values():
            if (
                status.failing_since is not None
                and status.state == "running"
                and status.since is not None
                and (now - status.since).total_seconds() >= self.healthy_after_s
            ):
                status.failing_since = None  # it has run long enough since: recovered
        return self.tasks

    async def _supervise(self, status: TaskStatus, factory: TaskFactory) -> None:
        backoff = Backoff(self.restart_min_s, self.restart_max_s)
        while True:
            started = time.monotonic()
            self._enter(status, "running")
            try:
                await factory()
            except asyncio.CancelledError:
                self._enter(status, "stopped")
                raise
            except Exception as exc:
                if time.monotonic() - started >= self.healthy_after_s:
                    status.failures_in_row = 0
                    backoff.reset()
                status.failures_in_row += 1
                status.last_error = describe_error(exc)
                if status.failing_since is None:
                    status.failing_since = datetime.now(UTC)
                if status.policy is Policy.ESSENTIAL:
                    self._enter(status, "failed")
                    self._end(exc)
                    return
                if status.policy is Policy.SOURCE and status.failures_in_row >= self.source_max_failures:
                    self._enter(status, "failed")
                    log.critical(
                        "task %s failed %d times in a row (%s); stopping", status.name, status.failures_in_row, exc
                    )
                    self._end(
                        SourceFailedError(
                            f"the source {status.name} failed {status.failures_in_row} times in a row: "
                            f"{status.last_error}"
                        )
                    )
                    return
                delay = backoff.next_delay_s()
                self._enter(status, "restarting")
                # the traceback once per run of failures; after it, one line each
                first = status.failures_in_row == 1
                log.error(
                    "task %s failed (%s); restarting in %.1f s",
                    status.name,
                    status.last_error,
                    delay,
                    exc_info=exc if first else None,
                )
                await asyncio.sleep(delay)
                status.restarts += 1
                continue
            self._enter(status, "done")
            if status.policy is Policy.ESSENTIAL:
                self._end(None)
            return

    @staticmethod
    def _enter(status: TaskStatus, state: str) -> None:
        status.state = state
        status.since = datetime.now(UTC)

    def _end(self, error: BaseException | None) -> None:
        if error is not None and self.fatal is None:
            self.fatal = error
        self.stopping.set()
