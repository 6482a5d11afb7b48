"""The web workspace in tests: an app on a test database with a settable clock, people of every
role, and a signed-in client (Starlette's TestClient: real HTTP semantics, no sockets)."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from campaign import people
from campaign.queue.db import Database

PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "editor", "approver", "admin")
SECRET = b"a test secret that is long enough for the workspace"


@dataclass
class Clock:
    moment: datetime

    def __call__(self) -> datetime:
        return self.moment


def make_workspace(db: Database, *, posts_file: Path | None = None, now: datetime | None = None):
    from web.app import Workspace, create_app

    clock = Clock(now or datetime.now(timezone.utc))
    ws = Workspace(db, SECRET, posts_file=posts_file, clock=clock)
    return create_app(ws), ws


def add_people(db: Database, now: datetime | None = None) -> None:
    """One person per role, named after it (viewer, editor, approver, admin), and a second approver."""
    moment = now or datetime.now(timezone.utc)
    for role in ROLES:
        people.add(db, role, role, PASSWORD, moment)
    people.add(db, "approver2", "approver", PASSWORD, moment)


def client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app, base_url="http://testserver", follow_redirects=False)


def login_token(response_text: str) -> str:
    return re.search(r'name="login_token" value="([^"]+)"', response_text).group(1)


def csrf_of(response_text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response_text).group(1)


def sign_in(http, name: str, password: str = PASSWORD, *, next_page: str = "/"):
    form = http.get("/login")
    return http.post("/login", data={"name": name, "password": password, "next": next_page,
                                     "login_token": login_token(form.text)})


def signed_in_client(app, name: str):
    http = client(app)
    response = sign_in(http, name)
    assert response.status_code == 303, response.text
    return http


def csrf(http, page: str = "/calendar") -> str:
    return csrf_of(http.get(page).text)
