"""The plugin lifecycle: exactly eight states, the transitions between them, and events.

    Loading -> Initializing -> Ready -> Processing <-> Paused
                                  \\          |           |
                                   +----> Stopping <-----+ -> Stopped
    any state but Stopped -> Error(reason)

Every stage of a pipeline, and the pipeline itself, has a `Lifecycle`. A transition not in
`TRANSITIONS` is a bug and raises `IllegalTransition`; each accepted one is sent to every
listener as an `Event` (listeners run on the thread that made the change).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable


class State(str, Enum):
    LOADING = "Loading"
    INITIALIZING = "Initializing"
    READY = "Ready"
    PROCESSING = "Processing"
    PAUSED = "Paused"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    ERROR = "Error"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.LOADING: frozenset({State.INITIALIZING, State.ERROR}),
    State.INITIALIZING: frozenset({State.READY, State.ERROR}),
    State.READY: frozenset({State.PROCESSING, State.STOPPING, State.ERROR}),
    State.PROCESSING: frozenset({State.PAUSED, State.STOPPING, State.ERROR}),
    State.PAUSED: frozenset({State.PROCESSING, State.STOPPING, State.ERROR}),
    State.STOPPING: frozenset({State.STOPPED, State.ERROR}),
    State.STOPPED: frozenset(),
    State.ERROR: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


@dataclass(frozen=True)
class Event:
    """Something that happened to a stage (`stage` is None for the pipeline as a whole).

    `kind` is "state" for a transition (`old` -> `new`, `reason` set for Error), or one of
    "reload", "reload-refused", "fault", "recycled" with a message in `reason`.
    """

    kind: str
    stage: str | None
    old: State | None = None
    new: State | None = None
    reason: str | None = None
    at: float = 0.0

    def __str__(self) -> str:
        who = self.stage or "pipeline"
        if self.kind == "state":
            tail = f"({self.reason})" if self.reason else ""
            return f"{who}: {self.old.value if self.old else '-'} -> {self.new.value if self.new else '-'}{tail}"
        return f"{who}: {self.kind}: {self.reason}"


Listener = Callable[[Event], None]


class Lifecycle:
    def __init__(self, stage: str | None, listeners: list[Listener]) -> None:
        self.stage = stage
        self.state = State.LOADING
        self.reason: str | None = None
        self._listeners = listeners
        self._lock = threading.Lock()
        self.history: list[State] = [State.LOADING]

    def to(self, new: State, reason: str | None = None) -> None:
        with self._lock:
            old = self.state
            if new not in TRANSITIONS[old]:
                raise IllegalTransition(f"{self.stage or 'pipeline'}: {old.value} -> {new.value}")
            self.state = new
            self.history.append(new)
            if new is State.ERROR:
                self.reason = reason
        self.emit(Event("state", self.stage, old, new, reason, time.time()))

    def fail(self, reason: str) -> None:
        """Enter Error(reason) unless already finished."""
        if self.state not in (State.ERROR, State.STOPPED):
            self.to(State.ERROR, reason)

    def emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    @property
    def label(self) -> str:
        if self.state is State.ERROR:
            return f"Error({self.reason})"
        return str(self.state.value)
