"""A campaign wired to the loopback fakes: posts.yaml, environment and queue, for dispatch tests."""
from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from campaign.queue.db import Database
from campaign.send.dispatch import Dispatcher
from campaign.spec.plan import load_plan
from campaign.queue.sync import sync



def x_env(fake, name: str = "tas_x") -> dict[str, str]:
    prefix = f"CAMPAIGN_{name.upper()}_"
    account = fake.account
    return {prefix + "API_KEY": account.consumer_key, prefix + "API_SECRET": account.consumer_secret,
            prefix + "ACCESS_TOKEN": account.access_token, prefix + "ACCESS_TOKEN_SECRET": account.access_token_secret,
            "CAMPAIGN_X_API_BASE": fake.url}


def mastodon_env(fake, name: str = "tas_m") -> dict[str, str]:
    return {f"CAMPAIGN_{name.upper()}_ACCESS_TOKEN": fake.account.access_token}


def bluesky_env(fake, name: str = "tas_b") -> dict[str, str]:
    return {f"CAMPAIGN_{name.upper()}_APP_PASSWORD": fake.account.app_password}


@dataclass
class Stage:
    folder: Path
    environ: dict[str, str]
    db: Database
    db_url: str
    # The fakes stamp posts with the real clock, and recovery reads the timeline since the claim:
    # so the stage's "now" starts as the real time, and posts are scheduled around it.
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    sleeps: list[float] = field(default_factory=list)

    @property
    def posts_file(self) -> Path:
        return self.folder / "posts.yaml"

    def write(self, accounts_yaml: str, posts_yaml: str, *, accounts: str, extra: str = "") -> None:
        text = ("timezone: Europe/Amsterdam\naccounts:\n" + textwrap.indent(textwrap.dedent(accounts_yaml), "  ")
                + "campaigns:\n  tas:\n    accounts: [" + accounts + "]\n"
                + "    vars: {link: 'https://publicpapersutrecht.nl/teams'}\n" + extra + "    posts:\n"
                + textwrap.indent(textwrap.dedent(posts_yaml), "      "))
        self.posts_file.write_text(text, encoding="utf-8")

    def at(self, minutes_from_now: int = 0) -> str:
        """Local Amsterdam time relative to now, as posts.yaml writes it (whole minutes, rounded down)."""
        moment = self.now.replace(second=0, microsecond=0) + timedelta(minutes=minutes_from_now)
        return moment.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%d %H:%M")

    def write_many(self, fake_x, fake_mastodon, count: int, prefix: str = "Bericht") -> list[str]:
        """count due posts with distinct texts, alternating between an X and a Mastodon account."""
        self.environ.update(x_env(fake_x))
        self.environ.update(mastodon_env(fake_mastodon))
        lines, texts = [], []
        for number in range(count):
            text = f"{prefix} {number:05d} over #zelfstandigeteams"
            texts.append(text)
            account = "tas_x" if number % 2 else "tas_m"
            lines.append(f"- {{id: b{number}, text: '{text}', accounts: [{account}], "
                         f"at: {self.at(-(number % 90) - 1)}}}\n")
        self.write(x_account_yaml(fake_x) + mastodon_account_yaml(fake_mastodon), "".join(lines),
                   accounts="tas_x, tas_m", extra="    late: 1d\n")
        return texts

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """The test process's environment without CAMPAIGN_* leftovers, plus the stage's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        env.update(self.environ)
        env.update(extra)
        return env

    def sync(self):
        return sync(self.db, load_plan(self.posts_file), self.now)

    def dispatcher(self, **kwargs) -> Dispatcher:
        options = {"clock": lambda: self.now, "sleep": self.sleeps.append, "backoff_base": 0.01}
        options.update(kwargs)
        return Dispatcher(self.db, environ=self.environ, **options)

    def run(self, **kwargs):
        return self.dispatcher(**kwargs).run_due()

    def rows(self):
        from sqlalchemy import select

        from campaign.queue.tables import scheduled_posts

        with self.db.transaction() as connection:
            return list(connection.execute(select(scheduled_posts).order_by(scheduled_posts.c.due_at,
                                                                            scheduled_posts.c.id)))


def x_account_yaml(fake, name: str = "tas_x", extra: str = "") -> str:
    return f"{name}: {{platform: x, handle: '@{fake.account.username}'{extra}}}\n"


def mastodon_account_yaml(fake, name: str = "tas_m") -> str:
    return f"{name}: {{platform: mastodon, instance: '{fake.url}', handle: '@{fake.account.username}'}}\n"


def bluesky_account_yaml(fake, name: str = "tas_b") -> str:
    return f"{name}: {{platform: bluesky, instance: '{fake.url}', handle: '{fake.account.handle}'}}\n"


def threads_env(fake, name: str = "tas_t") -> dict[str, str]:
    return {f"CAMPAIGN_{name.upper()}_ACCESS_TOKEN": fake.account.access_token, "CAMPAIGN_THREADS_API_BASE": fake.url,
            f"CAMPAIGN_{name.upper()}_MEDIA_URL": "https://media.example/campagne/",
            "CAMPAIGN_THREADS_POLL_SECONDS": "0"}


def threads_account_yaml(fake, name: str = "tas_t") -> str:
    return f"{name}: {{platform: threads, handle: '@{fake.account.username}'}}\n"
