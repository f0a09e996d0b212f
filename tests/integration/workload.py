"""A bounded workload for the demo app, sent through nginx (127.0.0.1 only).

One round produces every kind of data the dashboards show: 2xx, 4xx and 5xx
responses, an exception, model inserts/updates/deletes, database transactions
that commit and that roll back, and Celery tasks (succeeding, slow and failing).

`run_rounds` runs a fixed number of rounds (bounded in count and time);
`BackgroundWorkload` keeps a slow trickle going in a thread (bounded too) so
rates over the last seconds are not all zero while the checks run.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

TIMEOUT = 5.0


def _check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname
    if host not in {"127.0.0.1", "localhost"}:
        raise ValueError(f"the workload only talks to 127.0.0.1, not {host!r}")


@dataclass
class WorkloadStats:
    rounds: int = 0
    requests: int = 0
    errors: int = 0
    by_status_class: Counter = field(default_factory=Counter)
    by_path: Counter = field(default_factory=Counter)

    def record(self, label: str, status: int | None) -> None:
        self.requests += 1
        self.by_path[label] += 1
        if status is None:
            self.errors += 1
            self.by_status_class["error"] += 1
        else:
            self.by_status_class[f"{status // 100}xx"] += 1


def one_round(session: requests.Session, base_url: str, stats: WorkloadStats, n: int) -> None:
    def call(method: str, path: str, label: str | None = None, **kwargs) -> requests.Response | None:
        try:
            response = session.request(method, base_url + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException:
            stats.record(label or path, None)
            return None
        stats.record(label or path, response.status_code)
        return response

    call("GET", "/")                                                # 200
    call("GET", "/items/")                                          # 200
    created = call("POST", "/items/", json={"name": f"item-{n}", "quantity": n})  # 201: insert
    call("POST", "/items/", json={"name": f"keep-{n}", "quantity": 1})            # 201: insert (kept)
    call("POST", "/items/", json={"quantity": 1})                   # 400
    call("GET", "/items/999999999/", label="/items/<missing>/")     # 404
    call("GET", "/no-such-page/")                                   # 404 (resolver)
    if created is not None and created.status_code == 201:
        item_id = created.json()["id"]
        call("GET", f"/items/{item_id}/", label="/items/<id>/")
        call("PUT", f"/items/{item_id}/", label="/items/<id>/", json={"quantity": n + 1})  # update
        call("DELETE", f"/items/{item_id}/", label="/items/<id>/")  # delete, 204
    call("POST", "/transactions/?outcome=commit")                   # commit
    call("POST", "/transactions/?outcome=rollback")                 # rollback
    call("GET", "/status/503/")                                     # 503
    call("GET", "/status/500/")                                     # 500
    call("GET", "/boom/")                                           # exception -> 500
    call("POST", "/tasks/?task=add")                                # Celery: success
    call("POST", "/tasks/?task=record")                             # Celery: success + DB insert
    if n % 3 == 0:
        call("POST", "/tasks/?task=fail")                           # Celery: failure
    if n % 3 == 1:
        call("POST", "/tasks/?task=slow")                           # Celery: a 1 s task (runtime p95)
    stats.rounds += 1


def run_rounds(base_url: str, *, rounds: int = 10, max_seconds: float = 30.0, pause: float = 0.0,
               stop: threading.Event | None = None, stats: WorkloadStats | None = None) -> WorkloadStats:
    """Run at most `rounds` rounds, for at most `max_seconds`."""
    _check_loopback(base_url)
    stats = stats or WorkloadStats()
    deadline = time.monotonic() + max_seconds
    with requests.Session() as session:
        # Loopback only, no proxy: without this, each request reads os.environ for proxy settings,
        # which pytest changes (PYTEST_CURRENT_TEST) while this runs in a thread (a KeyError).
        session.trust_env = False
        for _ in range(rounds):
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                break
            one_round(session, base_url, stats, stats.rounds)
            if pause:
                if stop is not None:
                    if stop.wait(pause):
                        break
                else:
                    time.sleep(pause)
    return stats


class BackgroundWorkload:
    """A slow trickle of rounds in a daemon thread, bounded in rounds and time."""

    def __init__(self, base_url: str, *, rounds: int = 300, max_seconds: float = 240.0, pause: float = 1.0):
        _check_loopback(base_url)
        self.base_url, self.rounds, self.max_seconds, self.pause = base_url, rounds, max_seconds, pause
        self.stats = WorkloadStats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workload", daemon=True)

    def _run(self) -> None:
        run_rounds(self.base_url, rounds=self.rounds, max_seconds=self.max_seconds, pause=self.pause,
                   stop=self._stop, stats=self.stats)

    def start(self) -> BackgroundWorkload:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT * 3)

    def __enter__(self) -> BackgroundWorkload:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
