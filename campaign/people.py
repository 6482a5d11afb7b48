"""The people of the web workspace: names, roles and Argon2 password hashes.

Managed from the command line (`campaign users …`) by whoever runs the queue; the workspace only
reads them and checks passwords. A password is never stored, logged or shown: only its Argon2id
hash (argon2-cffi's defaults), re-hashed on the next sign-in when those defaults change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from campaign.errors import CampaignError, NotFoundError
from campaign.queue.db import Database
from campaign.queue.tables import ROLES, users, web_sessions

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte "password" is only a way to burn CPU


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    locale: str | None
    created_at: datetime
    updated_at: datetime


def may(role: str, needed: str) -> bool:
    """Whether someone with `role` may do what `needed` may: each role includes the ones before it."""
    return ROLES.index(role) >= ROLES.index(needed)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise CampaignError(f"{name!r} is not a usable user name: letters, digits and . _ @ -, "
                            "starting with a letter or digit, at most 100 characters")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise CampaignError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise CampaignError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise CampaignError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return password


def add(db: Database, name: str, role: str, password: str, now: datetime) -> Person:
    check_name(name), check_role(role), check_password(password)
    digest = _hasher().hash(password)
    with db.transaction(write=True) as connection:
        if connection.execute(select(users.c.name).where(users.c.name == name)).first() is not None:
            raise CampaignError(f"user {name!r} already exists (change it with `campaign users passwd` "
                                "or remove it first)")
        connection.execute(insert(users).values(name=name, role=role, password_hash=digest,
                                                created_at=now, updated_at=now))
    return Person(name, role, None, now, now)


def list_people(db: Database) -> list[Person]:
    with db.transaction() as connection:
        rows = connection.execute(select(users.c.name, users.c.role, users.c.locale, users.c.created_at,
                                         users.c.updated_at).order_by(users.c.name)).all()
    return [Person(*row) for row in rows]


def get(db: Database, name: str) -> Person | None:
    with db.transaction() as connection:
        row = connection.execute(select(users.c.name, users.c.role, users.c.locale, users.c.created_at,
                                        users.c.updated_at).where(users.c.name == name)).first()
    return Person(*row) if row else None


def remove(db: Database, name: str) -> None:
    """Remove a person and sign out every browser of theirs; their past approvals stay recorded."""
    with db.transaction(write=True) as connection:
        connection.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        if connection.execute(delete(users).where(users.c.name == name)).rowcount == 0:
            raise NotFoundError(f"no user {name!r}")


def set_password(db: Database, name: str, password: str, now: datetime) -> None:
    """A new password signs out every browser of that person."""
    check_password(password)
    digest = _hasher().hash(password)
    with db.transaction(write=True) as connection:
        if connection.execute(update(users).where(users.c.name == name)
                              .values(password_hash=digest, updated_at=now)).rowcount == 0:
            raise NotFoundError(f"no user {name!r}")
        connection.execute(delete(web_sessions).where(web_sessions.c.user_name == name))


def set_role(db: Database, name: str, role: str, now: datetime) -> None:
    check_role(role)
    with db.transaction(write=True) as connection:
        if connection.execute(update(users).where(users.c.name == name)
                              .values(role=role, updated_at=now)).rowcount == 0:
            raise NotFoundError(f"no user {name!r}")


def set_locale(db: Database, name: str, locale: str | None, now: datetime) -> None:
    with db.transaction(write=True) as connection:
        connection.execute(update(users).where(users.c.name == name).values(locale=locale, updated_at=now))


# Verified against when the name is unknown, so a wrong name costs the same time as a wrong password.
_UNKNOWN_USER_HASH = None


def authenticate(db: Database, name: str, password: str, now: datetime) -> Person | None:
    """The person when name and password match, else None (taking as long either way)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    global _UNKNOWN_USER_HASH
    hasher = _hasher()
    with db.transaction() as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
    if row is None or len(password) > MAX_PASSWORD:
        if _UNKNOWN_USER_HASH is None:
            _UNKNOWN_USER_HASH = hasher.hash("not a password of anyone here")
        try:
            hasher.verify(_UNKNOWN_USER_HASH, password[:MAX_PASSWORD])
        except VerificationError:
            pass
        return None
    try:
        hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(row.password_hash):
        with db.transaction(write=True) as connection:
            connection.execute(update(users).where(users.c.name == name, users.c.password_hash == row.password_hash)
                               .values(password_hash=hasher.hash(password)))
    return Person(row.name, row.role, row.locale, row.created_at, row.updated_at)
