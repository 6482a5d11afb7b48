"""What `campaign run --dry-run` shows: the queue walked exactly as Dispatcher.run_due would walk
it at the same moment — the same "due" (claims.due_clause), late allowance, daily caps and
credentials — without calling any platform. Posts awaiting approval are never posted: the dry run
says which are already due (held) and which a run would mark missed (not approved in time)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from campaign.errors import MissingCredentials
from campaign.queue import claims
from campaign.queue.accounts import load_accounts
from campaign.queue.db import Database
from campaign.send.dispatch import DAY, human_duration, daily_cap_hold
from campaign.send.platforms import AccountInfo


@dataclass(frozen=True)
class Preview:
    """What a real run at the same moment would do with one post (for `run --dry-run`)."""
    row: object  # the scheduled_posts row
    action: str  # post | settle | missed | held
    reason: str | None = None


def preview(db: Database, now: datetime, environ: Mapping[str, str]) -> list[Preview]:
    """What a run at `now` would do with each post it would take, in the order it would take them."""
    from campaign.send.platforms import credentials_for

    known = load_accounts(db)
    abandoned, due = claims.due_now(db, now)
    out = [_unapproved(row, now) for row in claims.awaiting_due(db, now)]
    out += [Preview(row, "settle", "its sender stopped mid-send: the timeline is checked before anything else")
            for row in abandoned]
    held: set[str] = set()
    planned: dict[str, list[datetime]] = {}
    for row in due:
        account = known.get(row.account)
        if row.account in held:
            out.append(Preview(row, "held", "waits with its account's earlier post"))
            continue
        in_doubt = row.in_doubt_since is not None
        if not in_doubt and now > row.due_at + timedelta(seconds=row.late_seconds):
            out.append(Preview(row, "missed", f"{human_duration(now - row.due_at)} after its due time, more than its "
                                              f"'late' allowance of {human_duration(timedelta(seconds=row.late_seconds))}"))
            continue
        try:
            credentials_for(AccountInfo(row.account, account.platform, account.handle, account.instance), environ)
        except MissingCredentials as error:
            held.add(row.account)
            out.append(Preview(row, "held", str(error)))
            continue
        parts = len((row.payload or {}).get("parts", [])) or 1
        if account.max_per_day is not None:
            sent = planned.setdefault(row.account, claims.sent_times_since(db, row.account, now - DAY))
            hold = daily_cap_hold(sent, parts, account.max_per_day, now)
            if hold is not None:
                held.add(row.account)
                out.append(Preview(row, "held", hold[1]))
                continue
            sent.extend([now] * parts)
        out.append(Preview(row, "settle" if in_doubt else "post",
                           "an earlier attempt may have gone out: the timeline is checked first" if in_doubt else None))
    return out


def _unapproved(row, now: datetime) -> Preview:
    """A due post awaiting approval: held while its 'late' allowance lasts, then missed."""
    late = timedelta(seconds=row.late_seconds)
    if now > row.due_at + late:
        return Preview(row, "missed", f"not approved in time: {human_duration(now - row.due_at)} after its due "
                                      f"time, more than its 'late' allowance of {human_duration(late)}")
    return Preview(row, "held", f"awaits approval ({row.approvals_needed} needed): 'campaign approvals', then "
                                f"'campaign approve {row.id}'")
