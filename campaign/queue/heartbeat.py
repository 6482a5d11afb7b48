"""The heartbeat rows of long-running dispatchers (`campaign serve`) in the `dispatchers` table.

`campaign status` lists the servers that have not stopped and says when each last ticked;
campaign.alerts.notify raises an alert for one whose ticks stopped without a stop (a crash).
"""
from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, update

from campaign.queue.db import Database
from campaign.queue.tables import dispatchers


def register(db: Database, worker: str, posts_file: Path, now: datetime, *, kind: str = "serve") -> None:
    """Record that `worker` (this process, on this host) started serving posts_file at `now`;
    `worker` must be new (claims.new_worker_id). Raises DatabaseError."""
    with db.transaction(write=True) as connection:
        connection.execute(insert(dispatchers).values(
            worker=worker, kind=kind, host=socket.gethostname(), pid=os.getpid(), started_at=now,
            last_tick_at=now, posts_file=str(Path(posts_file).resolve())))


def beat(db: Database, worker: str, now: datetime) -> None:
    """Record that `worker` is alive at `now`. Raises DatabaseError."""
    with db.transaction(write=True) as connection:
        connection.execute(update(dispatchers).where(dispatchers.c.worker == worker).values(last_tick_at=now))


def unregister(db: Database, worker: str, now: datetime) -> None:
    """Record that `worker` stopped at `now` (a clean stop, so no alert for its silence). Raises DatabaseError."""
    with db.transaction(write=True) as connection:
        connection.execute(update(dispatchers).where(dispatchers.c.worker == worker).values(stopped_at=now))
