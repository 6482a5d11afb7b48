"""Where each account's secrets come from: environment variables or a .env file.

Names are CAMPAIGN_<ACCOUNT>_<FIELD>, the account name upper-cased with every
non-alphanumeric character turned into "_", e.g. CAMPAIGN_TEAMSAANTSTUUR_ACCESS_TOKEN.
"""
from __future__ import annotations

import re

FIELDS_BY_PLATFORM = {
    "x": ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"),
    "mastodon": ("ACCESS_TOKEN",),
    "bluesky": ("APP_PASSWORD",),
}

_SECRET_KEY = re.compile(
    r"(token|secret|passw|pwd|api[_-]?key|bearer|credential|private[_-]?key|consumer[_-]?key|access[_-]?key)",
    re.IGNORECASE,
)


def env_prefix(account: str) -> str:
    return "CAMPAIGN_" + re.sub(r"[^A-Za-z0-9]", "_", account).upper() + "_"


def env_names(account: str, platform: str) -> tuple[str, ...]:
    return tuple(env_prefix(account) + f for f in FIELDS_BY_PLATFORM.get(platform, ()))


def looks_like_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))
