"""`campaign web` as a person starts it: a real uvicorn process on a loopback port."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest

CAMPAIGN = Path(sys.executable).parent / "campaign"
POSTS = """\
timezone: Europe/Amsterdam
accounts:
  tas_x: {platform: x, handle: teamsaantstuur}
campaigns:
  tas:
    accounts: [tas_x]
    posts:
      - {id: een, text: 'Praat mee!', at: 2031-01-18 10:00}
"""
SECRET_LINE = "CAMPAIGN_WEB_SECRET=" + "s3cr3t-" * 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "posts.yaml").write_text(POSTS, encoding="utf-8")
    env = _env(tmp_path)
    subprocess.run([str(CAMPAIGN), "sync"], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run([str(CAMPAIGN), "users", "add", "anna", "--role", "viewer", "--password-stdin"],
                   input="een lang wachtwoord\n", text=True, cwd=tmp_path, env=env, check=True, capture_output=True)
    return tmp_path


def _env(folder: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}


class Served:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.process = subprocess.Popen([str(CAMPAIGN), "web", "--port", str(self.port)], cwd=folder,
                                        env=_env(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        try:
            while True:  # wait for the server to answer, not for a fixed time
                assert self.process.poll() is None, self.process.communicate()
                assert time.monotonic() < deadline, "the workspace did not start within a minute"
                try:
                    urllib.request.urlopen(self.base + "/login", timeout=5).read()
                    return
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.05)
        except BaseException:
            self.process.kill()
            raise

    def stop(self) -> str:
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=30)
        return stderr


def sign_in(base: str, jar: CookieJar) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
    body = urlencode({"name": "anna", "password": "een lang wachtwoord", "next": "/calendar",
                      "login_token": token}).encode()
    return opener.open(base + "/login", data=body).status


def calendar_status(base: str, jar: CookieJar) -> str:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    try:
        return str(opener.open(base + "/calendar?month=2031-01").read().decode().count('href="/posts/'))
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"


def test_with_the_secret_in_dotenv_a_session_survives_a_restart(folder):
    (folder / ".env").write_text(SECRET_LINE + "\n", encoding="utf-8")
    jar = CookieJar()
    served = Served(folder)
    try:
        assert sign_in(served.base, jar) == 200
        assert calendar_status(served.base, jar) == "1"
    finally:
        first_log = served.stop()
    assert "CAMPAIGN_WEB_SECRET is not set" not in first_log
    assert "s3cr3t" not in first_log
    served = Served(folder)
    try:
        assert calendar_status(served.base, jar) == "1", "the same cookie is still good after a restart"
    finally:
        served.stop()


def test_without_the_secret_it_says_that_sessions_end_with_the_process(folder):
    jar = CookieJar()
    served = Served(folder)
    try:
        assert sign_in(served.base, jar) == 200
        assert calendar_status(served.base, jar) == "1"
    finally:
        log = served.stop()
    assert "CAMPAIGN_WEB_SECRET is not set" in log and "Traceback" not in log
    served = Served(folder)
    try:
        assert calendar_status(served.base, jar) == "HTTP 303", "a new key: the old cookie no longer signs in"
    finally:
        served.stop()


def test_a_short_secret_is_one_clear_line(folder):
    (folder / ".env").write_text("CAMPAIGN_WEB_SECRET=kort\n", encoding="utf-8")
    result = subprocess.run([str(CAMPAIGN), "web", "--port", str(free_port())], cwd=folder, env=_env(folder),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("campaign: CAMPAIGN_WEB_SECRET is too short")
    assert "kort" not in result.stderr and "Traceback" not in result.stderr
