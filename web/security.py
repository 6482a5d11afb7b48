"""Who is signed in, and what protects each request: sessions, CSRF tokens, sign-in limits, headers.

A session is a random token. The browser holds it in a signed, HttpOnly, SameSite=Strict cookie;
the database holds only its SHA-256, so several workspace processes share sessions and a copy of
the database lets no one in. Each sign-in starts a new token (no session fixation). The CSRF token
of a form is an HMAC of the session token under the workspace secret: nothing more to store, and
it changes with the session.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from campaign.people import Person
from campaign.queue.db import Database
from campaign.queue.tables import login_attempts, users, web_sessions

SESSION_COOKIE = "praatmee_session"
IDLE_TIMEOUT = timedelta(hours=12)
LONGEST_SESSION = timedelta(days=7)
# Sliding expiry is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
KEEP_ATTEMPTS = timedelta(days=1)

SECRET_VARIABLE = "CAMPAIGN_WEB_SECRET"
MIN_SECRET_LENGTH = 32

CONTENT_SECURITY_POLICY = ("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
                           "object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SecretError(Exception):
    pass


def workspace_secret(environ) -> tuple[bytes, bool]:
    """The key that signs cookies and subscribe links, and whether it was made up for this process.

    From CAMPAIGN_WEB_SECRET (environment or .env). Without it a random key is made: fine for one
    process, but sessions and calendar links then end when it stops.
    """
    value = environ.get(SECRET_VARIABLE)
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise SecretError(f"{SECRET_VARIABLE} is too short: use at least {MIN_SECRET_LENGTH} random characters "
                              "(e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return value.encode(), False
    return secrets.token_bytes(32), True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    person: Person
    token: str  # the session token (only in memory and in the browser's cookie)
    csrf: str


class Sessions:
    def __init__(self, db: Database, secret: bytes):
        from itsdangerous import URLSafeSerializer

        self.db = db
        self.secret = secret
        self._cookie = URLSafeSerializer(secret, salt="praatmee-session")

    def csrf_for(self, token: str) -> str:
        return hmac.new(self.secret, b"csrf\0" + token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, signed_in: SignedIn | None, given: str | None) -> bool:
        return bool(signed_in and given) and hmac.compare_digest(signed_in.csrf, given)

    def start(self, person: Person, now: datetime, *, replaces: str | None = None) -> str:
        """A new session for `person` (ending the browser's previous one); returns the cookie value."""
        token = secrets.token_urlsafe(32)
        with self.db.transaction(write=True) as connection:
            if replaces:
                old = self._token(replaces)
                if old:
                    connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == _digest(old)))
            connection.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
            connection.execute(insert(web_sessions).values(
                token_hash=_digest(token), user_name=person.name, created_at=now, last_seen_at=now,
                expires_at=now + IDLE_TIMEOUT))
        return self._cookie.dumps(token)

    def _token(self, cookie: str | None) -> str | None:
        from itsdangerous import BadSignature

        if not cookie or len(cookie) > 500:
            return None
        try:
            token = self._cookie.loads(cookie)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None

    def load(self, cookie: str | None, now: datetime) -> SignedIn | None:
        token = self._token(cookie)
        if token is None:
            return None
        key = _digest(token)
        s = web_sessions.c
        with self.db.transaction() as connection:
            row = connection.execute(
                select(s.created_at, s.last_seen_at, s.expires_at, users.c.name, users.c.role, users.c.locale,
                       users.c.created_at.label("user_created_at"), users.c.updated_at)
                .join(users, users.c.name == s.user_name).where(s.token_hash == key)).first()
        if row is None:
            return None
        if row.expires_at <= now or row.created_at + LONGEST_SESSION <= now:
            with self.db.transaction(write=True) as connection:
                connection.execute(delete(web_sessions).where(s.token_hash == key))
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            with self.db.transaction(write=True) as connection:
                connection.execute(update(web_sessions).where(s.token_hash == key).values(
                    last_seen_at=now, expires_at=min(now + IDLE_TIMEOUT, row.created_at + LONGEST_SESSION)))
        person = Person(row.name, row.role, row.locale, row.user_created_at, row.updated_at)
        return SignedIn(person, token, self.csrf_for(token))

    def end(self, cookie: str | None) -> None:
        token = self._token(cookie)
        if token:
            with self.db.transaction(write=True) as connection:
                connection.execute(delete(web_sessions).where(web_sessions.c.token_hash == _digest(token)))


def sign_in_wait(db: Database, name: str, address: str, now: datetime) -> timedelta | None:
    """How long this name or address must wait before trying again, or None when it may try now.

    A name is locked after MAX_FAILURES_PER_USER failures within LOGIN_WINDOW since its last
    success; an address after MAX_FAILURES_PER_ADDRESS, whatever names it tried.
    """
    a = login_attempts.c
    since = now - LOGIN_WINDOW
    with db.transaction() as connection:
        last_success = connection.execute(select(func.max(a.id)).where(
            a.user_name == name, a.succeeded == 1, a.attempted_at >= since)).scalar()
        by_name = connection.execute(select(func.count(), func.min(a.attempted_at)).where(
            a.user_name == name, a.succeeded == 0, a.attempted_at >= since, a.id > (last_success or 0))).one()
        by_address = connection.execute(select(func.count(), func.min(a.attempted_at)).where(
            a.address == address, a.succeeded == 0, a.attempted_at >= since)).one()
    waits = [first + LOGIN_WINDOW - now
             for (count, first), limit in ((by_name, MAX_FAILURES_PER_USER), (by_address, MAX_FAILURES_PER_ADDRESS))
             if count >= limit]
    return max(waits) if waits else None


def record_sign_in(db: Database, name: str, address: str, succeeded: bool, now: datetime) -> None:
    with db.transaction(write=True) as connection:
        connection.execute(delete(login_attempts).where(login_attempts.c.attempted_at < now - KEEP_ATTEMPTS))
        connection.execute(insert(login_attempts).values(user_name=name[:100], address=address[:100],
                                                         succeeded=int(succeeded), attempted_at=now))


def warn(message: str) -> None:
    print(f"campaign web: {message}", file=sys.stderr)


def environment(posts_file) -> dict[str, str]:
    """The process environment with the .env files of posts.yaml's folder and the working folder."""
    from campaign.credentials import load_environment

    return load_environment(posts_file, os.environ) if posts_file else dict(os.environ)
