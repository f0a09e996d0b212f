"""The demo app's gunicorn settings on a real gunicorn: no control socket (gunicorn 25.1+ opens
one under $HOME at every start, and logs an error where the app's user has no home)."""

from __future__ import annotations

import os
import sys

from tests.integration import services

APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def test_demo_gunicorn_opens_no_control_socket():
    with services.temp_dir("gunicorn") as tmp:
        (tmp / "tiny_app.py").write_text(APP, encoding="utf-8")
        home = tmp / "home"
        home.mkdir()
        port = services.free_port()
        env = {**os.environ, "HOME": str(home), "GUNICORN_BIND": f"{services.HOST}:{port}"}
        env.pop("XDG_RUNTIME_DIR", None)
        process = services.Process(
            "gunicorn", [sys.executable, "-m", "gunicorn", "--config", str(services.REPO_ROOT / "demo" / "gunicorn.conf.py"),
                         "tiny_app:app"], tmp / "gunicorn.log", cwd=tmp, env=env)
        with services.running(process):
            services.wait_until(lambda: services.http_ok(f"http://{services.HOST}:{port}/"), timeout=20,
                                what="gunicorn", proc=process)
        log = (tmp / "gunicorn.log").read_text(encoding="utf-8")
        assert "Listening at" in log
        assert "control socket" not in log.lower(), log
        assert not (home / ".gunicorn").exists()
