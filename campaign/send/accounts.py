"""`campaign accounts check`: does each account's platform accept its credentials?"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from campaign.queue import claims
from campaign.queue.db import Database
from campaign.credentials import env_prefix
from campaign.errors import AuthFailed, MissingCredentials, PlatformError
from campaign.spec.model import CampaignFile
from campaign.send.platforms import AccountInfo, connect
from campaign.redact import redact, secret_values


@dataclass(frozen=True)
class AccountCheck:
    account: str
    platform: str
    status: str  # ok | missing | rejected | error
    detail: str
    warning: str | None = None  # e.g. a token that expires within 14 days


def check_accounts(cfile: CampaignFile, environ: Mapping[str, str], db: Database | None, now: datetime,
                   connect_platform=connect) -> list[AccountCheck]:
    results = []
    for account in cfile.accounts.values():
        info = AccountInfo(account.name, account.platform, account.handle, account.instance,
                           account.organization)
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
        warning = None
        if hasattr(platform, "token_expiry"):  # platforms whose tokens expire (LinkedIn, Threads)
            try:
                expiry, warning = token_expiry_note(account.name, platform, now)
            except PlatformError as error:
                status = "rejected" if error.status in (401, 403) else "error"
                results.append(AccountCheck(account.name, account.platform, status,
                                            redact(str(error), secret_values(environ))))
                continue
            detail += f"; {expiry}"
        if db is not None:
            claims.unflag_account(db, account.name, now)
        results.append(AccountCheck(account.name, account.platform, "ok", detail, warning))
    return results


def token_expiry_note(name: str, platform, now: datetime) -> tuple[str, str | None]:
    """("token expires …", a warning when that is within WARN_AHEAD) for a platform with token_expiry().
    An expired token raises AuthFailed (status 401), like a refused one."""
    warn_ahead = getattr(platform, "WARN_AHEAD", timedelta(days=14))
    expires = platform.token_expiry()
    if expires is None:
        return f"token expiry unknown (set {env_prefix(name)}TOKEN_EXPIRES to be warned before it)", None
    left = expires - now
    if left <= timedelta(0) and not getattr(platform, "can_refresh", False):
        raise AuthFailed(f"the access token expired on {expires:%Y-%m-%d %H:%M} UTC", status=401)
    note = f"token expires {expires:%Y-%m-%d %H:%M} UTC (in {max(left.days, 0)} days)"
    if left < warn_ahead:
        if getattr(platform, "can_refresh", False):
            return note + "; refreshed automatically", None
        return note, (f"warning: account '{name}': the access token expires on {expires:%Y-%m-%d} "
                      f"(in {max(left.days, 0)} days); get a new one before then")
    return note, None


def _plain(handle: str) -> str:
    return handle.lstrip("@").split("@")[0].lower()
