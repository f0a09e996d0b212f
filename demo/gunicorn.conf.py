"""gunicorn settings for the demo app, from the environment.

GUNICORN_BIND (default 0.0.0.0:8000), WEB_CONCURRENCY (workers, default 1),
GUNICORN_THREADS (default 4). With more than one worker, django-prometheus needs
PROMETHEUS_MULTIPROC_DIR (an empty, writable directory): it is emptied at start
and dead workers are marked so their gauges go away.
"""
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# gunicorn 25.1+ opens a control socket under $HOME at every start; the app's user has no home
# (an error line at each start) and nothing here uses `gunicornc`.
control_socket_disable = True

_multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

if workers > 1 and not _multiproc_dir:
    raise RuntimeError(
        "WEB_CONCURRENCY > 1 needs PROMETHEUS_MULTIPROC_DIR (an empty writable directory) "
        "so /metrics aggregates every worker"
    )


def on_starting(server):  # noqa: ARG001 - gunicorn hook signature
    if _multiproc_dir:
        shutil.rmtree(_multiproc_dir, ignore_errors=True)
        os.makedirs(_multiproc_dir, exist_ok=True)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn hook signature
    if _multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
