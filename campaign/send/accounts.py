"""`campaign accounts check`: does each account's platform accept its credentials?"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from campaign.queue import claims
from campaign.queue.db import Database
from campaign.errors import MissingCredentials, PlatformError
from campaign.spec.model import CampaignFile
from campaign.send.platforms import AccountInfo, connect
from campaign.redact import redact, secret_values


@dataclass(frozen=True)
class AccountCheck:
    account: str
    platform: str
    status: str  # ok | missing | rejected | error
    detail: str


def check_accounts(cfile: CampaignFile, environ: Mapping[str, str], db: Database | None, now: datetime,
                   connect_platform=connect) -> list[AccountCheck]:
    results = []
    for account in cfile.accounts.values():
        info = AccountInfo(account.name, account.platform, account.handle, account.instance)
        try:
            platform = connect_platform(info, environ)
            handle = platform.whoami()
        except MissingCredentials as error:
            results.append(AccountCheck(account.name, account.platform, "missing", f"set {', '.join(error.names)}"))
            continue
        except PlatformError as error:
            status = "rejected" if error.status in (401, 403) else "error"
            results.append(AccountCheck(account.name, account.platform, status,
                                        redact(str(error), secret_values(environ))))
            continue
        detail = f"signed in as {handle}"
        if _plain(handle) != _plain(account.handle):
            detail += f" (posts.yaml says {account.handle})"
        if db is not None:
            claims.unflag_account(db, account.name, now)
        results.append(AccountCheck(account.name, account.platform, "ok", detail))
    return results


def _plain(handle: str) -> str:
    return handle.lstrip("@").split("@")[0].lower()
