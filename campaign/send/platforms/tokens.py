"""Refreshed access tokens, kept beside .env: never in the database, never in a log.

A platform whose long-lived token must be renewed (Threads: 60 days, renewable while valid)
keeps the renewed token in one JSON file, readable by its owner only (0600), default
`.campaign-tokens.json` beside posts.yaml (CAMPAIGN_TOKEN_FILE chooses another). Each entry
remembers which configured token (.env / environment) it descends from, by a hash: when a
person puts a new token in .env, the file's older chain is ignored, never preferred to it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Renew a token once it is this old (a 60-day token then never gets closer than ~53 days to
# expiry), or sooner when its known expiry is this near.
REFRESH_AFTER = timedelta(days=7)
REFRESH_BEFORE_EXPIRY = timedelta(days=30)
# Threads refuses to renew a token younger than a day; a configured token is tried after that.
MIN_AGE = timedelta(days=1)


def _origin(configured: str) -> str:
    return hashlib.sha256(configured.encode()).hexdigest()[:16]


class TokenStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _entry(self, account: str, configured: str) -> dict | None:
        entry = self._read().get(account)
        if isinstance(entry, dict) and entry.get("origin") == _origin(configured) and entry.get("access_token"):
            return entry
        return None

    def current(self, account: str, configured: str) -> str | None:
        """The renewed token descending from the configured one, or None."""
        entry = self._entry(account, configured)
        return entry["access_token"] if entry else None

    def expires_at(self, account: str, configured: str) -> datetime | None:
        entry = self._entry(account, configured)
        return _time(entry.get("expires_at")) if entry else None

    def due(self, account: str, configured: str, now: datetime | None = None) -> bool:
        """Whether the token in use should be renewed now."""
        now = now or datetime.now(timezone.utc)
        entry = self._entry(account, configured)
        if entry is None:
            first_seen = self._first_seen(account, configured, now)
            return now - first_seen >= MIN_AGE or first_seen == now
        refreshed, expires = _time(entry.get("refreshed_at")), _time(entry.get("expires_at"))
        return (refreshed is None or now - refreshed >= REFRESH_AFTER
                or (expires is not None and expires - now <= REFRESH_BEFORE_EXPIRY))

    def _first_seen(self, account: str, configured: str, now: datetime) -> datetime:
        # A configured token of unknown age: try once now; if Threads says it is too new, the
        # next try waits a day (attempted_at), so a young token costs one call a day at most.
        entry = self._read().get(account)
        if isinstance(entry, dict) and entry.get("attempt_origin") == _origin(configured):
            attempted = _time(entry.get("attempted_at"))
            if attempted is not None:
                return attempted
        return now

    def note_attempt(self, account: str, configured: str, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        data = self._read()
        entry = data.get(account) if isinstance(data.get(account), dict) else {}
        entry.update(attempt_origin=_origin(configured), attempted_at=now.isoformat())
        data[account] = entry
        self._write(data)

    def save(self, account: str, configured: str, token: str, expires_at: datetime) -> None:
        data = self._read()
        data[account] = {"origin": _origin(configured), "access_token": token,
                         "expires_at": expires_at.astimezone(timezone.utc).isoformat(),
                         "refreshed_at": datetime.now(timezone.utc).isoformat()}
        self._write(data)

    def _write(self, data: dict) -> None:
        """Atomically, created 0600: a reader never sees half a file, nobody else reads it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise


def _time(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
