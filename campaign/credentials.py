"""Where each account's secrets come from: environment variables or a .env file.

Names are CAMPAIGN_<ACCOUNT>_<FIELD>, the account name upper-cased with every
non-alphanumeric character turned into "_", e.g. CAMPAIGN_TEAMSAANTSTUUR_ACCESS_TOKEN.
"""
from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path
from typing import Mapping

from campaign.errors import CampaignError

FIELDS_BY_PLATFORM = {
    "x": ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"),
    "mastodon": ("ACCESS_TOKEN",),
    "bluesky": ("APP_PASSWORD",),
    "linkedin": ("ACCESS_TOKEN",),
    "threads": ("ACCESS_TOKEN",),
}

# Read when set, never required: LinkedIn's refresh (all three) and the token's expiry date.
OPTIONAL_FIELDS_BY_PLATFORM = {
    "linkedin": ("REFRESH_TOKEN", "CLIENT_ID", "CLIENT_SECRET", "TOKEN_EXPIRES"),
}

_SECRET_KEY = re.compile(
    r"(token|secret|passw|pwd|api[_-]?key|bearer|credential|private[_-]?key|consumer[_-]?key|access[_-]?key)",
    re.IGNORECASE,
)


TOKEN_FILE = ".campaign-tokens.json"


def env_prefix(account: str) -> str:
    return "CAMPAIGN_" + re.sub(r"[^A-Za-z0-9]", "_", account).upper() + "_"


def env_names(account: str, platform: str) -> tuple[str, ...]:
    return tuple(env_prefix(account) + f for f in FIELDS_BY_PLATFORM.get(platform, ()))


def looks_like_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


class EnvFileError(CampaignError):
    """A .env file that cannot be used: not a file, not UTF-8, or a line that is not NAME=value."""


def env_files(posts_file: Path) -> list[Path]:
    """The .env files that count, in order (a later one wins): the working folder's, then posts.yaml's."""
    out = []
    for candidate in (Path.cwd() / ".env", Path(posts_file).resolve().parent / ".env"):
        if candidate.exists() and candidate.resolve() not in [p.resolve() for p in out]:
            out.append(candidate)
    return out


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value pairs of one .env file; any problem is one EnvFileError naming the file and line."""
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    if not path.is_file():
        raise EnvFileError(f"{path}: is not a file (a .env must be a file of NAME=value lines)")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EnvFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise EnvFileError(f"{path}:{line}: not UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise EnvFileError(f"{path}:{binding.original.line}: not a NAME=value line "
                               f"(quote values with spaces or '#', close every quote)")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def load_environment(posts_file: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment, plus the .env files for what the environment does not set."""
    values: dict[str, str] = {}
    for path in env_files(posts_file):
        values.update(read_env_file(path))
    merged = {**values, **(os.environ if environ is None else environ)}
    # Where renewed tokens are kept (campaign.send.platforms.tokens): beside posts.yaml, like .env.
    merged.setdefault("CAMPAIGN_TOKEN_FILE", str(Path(posts_file).resolve().parent / TOKEN_FILE))
    return merged


def env_file_warnings(posts_file: Path) -> list[str]:
    """Secrets in a .env that other users of the machine can read."""
    warnings = []
    for path in env_files(posts_file):
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
            warnings.append(f"warning: {path} is readable by other users of this machine and holds "
                            f"secrets; run 'chmod 600 {path}'")
    return warnings
