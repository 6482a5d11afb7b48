"""Keep secrets out of every message: what a platform echoes back (an error body quoting the
bearer token, an app password in a URL) is cut out before it is printed, logged, stored or sent."""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from campaign.credentials import looks_like_secret_key

MASK = "[redacted]"
_MIN_SECRET = 6  # shorter values would mask ordinary words

_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|oauth)\s+[A-Za-z0-9._~+/=%-]{8,}"),
    re.compile(r"(?i)\b((?:access_|refresh_|auth_|app_|oauth_)?(?:token|password|secret|passwd|pwd|api_?key|"
               r"oauth_signature|oauth_token))(\s*[=:]\s*[\"']?)[^\s&\"',;}]{4,}"),
    re.compile(r"\b[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}\b"),  # Bluesky app password
    re.compile(r"(?i)(://[^/\s:@]+:)[^@\s/]+@"),  # user:password@ in a URL
)


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of every secret-named CAMPAIGN_* variable, longest first."""
    values = {value for name, value in environ.items()
              if name.startswith("CAMPAIGN_") and looks_like_secret_key(name) and value
              and len(value) >= _MIN_SECRET}
    return tuple(sorted(values, key=len, reverse=True))


def redact(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """`text` with every known secret value and anything shaped like a credential masked."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _PATTERNS[2].sub(MASK, text)
    return _PATTERNS[3].sub(lambda m: f"{m.group(1)}{MASK}@", text)
