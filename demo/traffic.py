"""Traffic for the demo workload: keeps every dashboard panel fed without anyone clicking.

Standard library only. Loops over a fixed mix of requests (2xx, 4xx, 5xx, an exception,
model inserts/updates/deletes, commits and rollbacks, Celery tasks) against BASE_URL.
Usage: python traffic.py http://nginx:8080 [--pause SECONDS] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request

# (method, path, body): one round of the mix.
ROUND = [
    ("GET", "/", None),
    ("GET", "/items/", None),
    ("POST", "/items/", {"name": "widget", "quantity": 3}),
    ("GET", "/status/200/", None),
    ("GET", "/status/404/", None),
    ("GET", "/status/503/", None),
    ("GET", "/boom/", None),
    ("POST", "/transactions/", None),
    ("POST", "/transactions/?outcome=rollback", None),
    ("POST", "/tasks/?task=add", None),
    ("POST", "/tasks/?task=record", None),
    ("POST", "/tasks/?task=slow", None),
    ("POST", "/tasks/?task=fail", None),
]


def request(base: str, method: str, path: str, body: dict | None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def one_round(base: str) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for method, path, body in ROUND:
        status, payload = request(base, method, path, body)
        statuses[status] = statuses.get(status, 0) + 1
        if method == "POST" and path == "/items/" and status == 201:
            item = json.loads(payload)["id"]
            for follow in ("PUT", "DELETE"):
                code, _ = request(base, follow, f"/items/{item}/", {"quantity": 5} if follow == "PUT" else None)
                statuses[code] = statuses.get(code, 0) + 1
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--rounds", type=int, default=0, help="0 runs until stopped")
    args = parser.parse_args()
    done = 0
    while args.rounds == 0 or done < args.rounds:
        try:
            print(json.dumps(one_round(args.base_url.rstrip("/"))), flush=True)
        except (urllib.error.URLError, OSError) as error:  # the app may still be starting
            print(f"traffic: {error}", flush=True)
        done += 1
        time.sleep(args.pause)


if __name__ == "__main__":
    main()
