"""Expand validated campaigns into concrete occurrences and check them together.

An occurrence is one post (or thread) on one account at one instant. Its key is
its stable identity: campaign/post/account for a one-off post (so moving `at`
updates it in place), plus the local wall-clock time for a recurring one. Keys
never depend on a post's position in the file.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from campaign.spec import config, schedule as sched
from campaign.errors import CampaignError, ConfigError
from campaign.spec.model import Account, Campaign, CampaignFile, Post
from campaign.spec.problems import Mark, Problem, ProblemList
from campaign.spec.text import LIMITS, add_utm, fill, length, unsendable

DAY = timedelta(hours=24)
MAX_REPORTS_PER_POST = 5
MAX_OCCURRENCES_PER_FILE = 100_000
# Past this multiple of its limit a text is refused without counting: twitter-text on a megabyte
# takes seconds, and the answer is "too long" anyway.
FAR_TOO_LONG = 10


class PlannedMedia(NamedTuple):
    path: str  # absolute
    alt: str
    sha256: str | None  # of the content when posts.yaml was read: an approval holds for this file only


@dataclass(frozen=True)
class PlannedPart:
    """One part of an occurrence as it will be sent: the final text, its media and its length."""

    text: str
    media: tuple[PlannedMedia, ...]
    length: int
    # True: automatic link card (Bluesky); False: none; a dict {"title", "description", "image"}: by hand
    card: bool | dict = True


@dataclass(frozen=True)
class Occurrence:
    """One post going out on one account at one moment: what the queue stores and sends."""

    key: str
    campaign_id: str
    campaign_name: str
    post_id: str
    account: str
    platform: str
    due_at: datetime  # aware, UTC
    local_time: datetime  # aware, in the campaign's zone
    timezone: str
    index: int  # position in the post's recurrence, drives variant rotation
    variant: int
    parts: tuple[PlannedPart, ...]
    limit: int
    late: timedelta
    mark: Mark
    language: str | None = None
    approvals_needed: int = 0  # distinct people who must approve this content before it is sent

    @property
    def text(self) -> str:
        return self.parts[0].text

    def payload(self) -> dict:
        """What the queue stores and the dispatcher posts."""
        payload = {"parts": [_part_payload(p) for p in self.parts]}
        if self.language:
            payload["language"] = self.language
        return payload


def _part_payload(part: PlannedPart) -> dict:
    out = {"text": part.text, "media": [{"path": m.path, "alt": m.alt, "sha256": m.sha256} for m in part.media]}
    if part.card is not True:  # left out when automatic, so payloads (and their hashes) stay as before cards
        out["card"] = part.card
    return out


@dataclass
class Plan:
    """What posts.yaml plans for a range of time: its occurrences and the problems found on the way."""

    file: CampaignFile | None
    occurrences: list[Occurrence]
    problems: ProblemList

    @property
    def ok(self) -> bool:
        return self.file is not None and not self.problems.errors


def analyse(path: Path | str, now: datetime | None = None) -> Plan:
    """Load, validate and expand posts.yaml; every problem is in plan.problems.

    Each post and account is judged on its own, so one broken post never hides another's problems,
    and a problem is reported once, where it starts (a post with errors is not expanded further).
    `now` (aware; default: the clock) is what "in the past" is measured against.
    """
    try:
        return _analyse(path, now)
    except CampaignError:
        raise
    except (Exception, RecursionError) as exc:
        # A bug met by some odd input: still one line naming the file, never a traceback, so
        # `run` can keep posting the last good queue.
        return _unexpected(path, exc)


def _unexpected(path: Path | str, exc: BaseException) -> Plan:
    problems = ProblemList(str(path))
    detail = str(exc)[:200]
    problems.error(Mark(), f"cannot read this file ({type(exc).__name__}{': ' + detail if detail else ''}); "
                           "please report it")
    return Plan(None, [], problems)


def _analyse(path: Path | str, now: datetime | None) -> Plan:
    from campaign.spec import checks, xtext

    cfile, problems = config.load(path)
    if cfile is None:
        return Plan(cfile, [], problems)
    occurrences = expand(cfile, problems)
    check_lengths(occurrences, problems)
    check_media(occurrences, problems)
    check_duplicates(occurrences, cfile.accounts, problems)
    check_daily_caps(occurrences, cfile.accounts, problems)
    checks.run_all(cfile, occurrences, problems, now)
    xtext.save()
    return Plan(cfile, occurrences, problems)


def load_plan(path: Path | str, now: datetime | None = None) -> Plan:
    """Like analyse, but raise ConfigError when the file has errors."""
    try:
        plan = analyse(path, now)
    except CampaignError as error:
        # Unreadable or undecodable: to `run` that is a bad file like any other, so the last good
        # queue keeps going out. A missing file stays a plain error.
        if isinstance(error, ConfigError) or not Path(path).exists():
            raise
        raise ConfigError([Problem(str(path), Mark(), "error", str(error))]) from None
    if not plan.ok:
        raise ConfigError(plan.problems.sorted())
    return plan


def expand(cfile: CampaignFile, problems: ProblemList) -> list[Occurrence]:
    out: list[Occurrence] = []
    for campaign in cfile.campaigns.values():
        tz = sched.zone(campaign.timezone)
        for post in campaign.posts:
            for occ in _expand_post(campaign, post, cfile.accounts, tz, problems):
                if len(out) >= MAX_OCCURRENCES_PER_FILE:
                    problems.error(post.schedule.mark, f"the file has more than {MAX_OCCURRENCES_PER_FILE:,} "
                                                       "occurrences (posts × accounts); split it or shorten recurrences")
                    return _in_order(out)
                out.append(occ)
    return _in_order(out)


def _in_order(occurrences: list[Occurrence]) -> list[Occurrence]:
    occurrences.sort(key=lambda o: (o.due_at, o.account, o.key))
    return occurrences


def _expand_post(campaign: Campaign, post: Post, accounts: dict[str, Account], tz, problems: ProblemList):
    reported = 0
    produced = 0
    recurring = post.schedule.recurring
    for index, local in enumerate(sched.local_times(post.schedule)):
        produced = index + 1
        if index >= sched.MAX_OCCURRENCES_PER_POST:
            problems.error(post.schedule.mark, f"this post has more than {sched.MAX_OCCURRENCES_PER_POST:,} "
                                               "occurrences; shorten 'until' or 'count'")
            return
        placed = sched.place(local, tz, post.schedule.fold)
        if placed.utc is None:
            if reported < MAX_REPORTS_PER_POST:
                problems.error(post.schedule.mark, placed.problem)
            reported += 1
            continue
        variant_index = index % len(post.variants)
        variant = post.variants[variant_index]
        for name in post.accounts:
            account = accounts[name]
            parts = tuple(_plan_part(part, campaign, post, account) for part in variant)
            suffix = f"/{local:%Y-%m-%dT%H:%M}" if recurring else ""
            yield Occurrence(
                key=f"{campaign.id}/{post.id}/{name}{suffix}",
                campaign_id=campaign.id, campaign_name=campaign.name, post_id=post.id,
                account=name, platform=account.platform,
                due_at=placed.utc, local_time=placed.utc.astimezone(tz), timezone=campaign.timezone,
                index=index, variant=variant_index, parts=parts,
                limit=_limit(account), late=post.late, mark=post.text_mark, language=campaign.language,
                approvals_needed=campaign.approvals_needed,
            )
    if recurring:
        _check_fired(post, produced, problems)


def _check_fired(post: Post, produced: int, problems: ProblemList) -> None:
    """A rule that matches no date (30 February) or runs past LAST_YEAR must not pass as valid."""
    wanted = post.schedule.count
    if produced == 0:
        problems.error(post.schedule.mark, "this recurrence never happens: no date matches the rule "
                                           f"between 'from' and {'until' if post.schedule.until else sched.LAST_YEAR}")
    elif wanted is not None and produced < wanted:
        problems.error(post.schedule.mark, f"only {produced} of the {wanted} occurrences happen by the end of "
                                           f"{sched.LAST_YEAR}; {sched.RANGE}")


def _limit(account: Account) -> int:
    return account.max_chars or LIMITS[account.platform]


def _plan_part(part, campaign: Campaign, post: Post, account: Account) -> PlannedPart:
    text = fill(part.text, campaign.vars)
    media = tuple(PlannedMedia(str(m.path), m.alt, m.sha256) for m in part.media)
    card = _planned_card(part.card, campaign)
    if len(text) > FAR_TOO_LONG * _limit(account) or unsendable(text):
        return PlannedPart(text, media, len(text), card)
    if campaign.utm is not None:
        values = {"platform": account.platform, "account": account.name, "campaign": campaign.id, "post": post.id}
        params = tuple((k, v.format_map(values)) for k, v in campaign.utm.params)
        text = add_utm(text, campaign.utm.hosts, params)
    return PlannedPart(text, media, length(account.platform, text), card)


def _planned_card(card, campaign: Campaign) -> bool | dict:
    if isinstance(card, bool):
        return card
    image = card.image
    return {"title": fill(card.title, campaign.vars) if card.title else None,
            "description": fill(card.description, campaign.vars) if card.description else None,
            "image": {"path": str(image.path), "alt": image.alt, "sha256": image.sha256} if image else None}


def check_media(occurrences: list[Occurrence], problems: ProblemList) -> None:
    """Each media file by its content and size, for each platform it goes to (once per pair)."""
    from campaign.spec.media import problem

    seen = set()
    for occ in occurrences:
        for part in occ.parts:
            for path, _alt, _sha256 in part.media:
                if (path, occ.platform) in seen:
                    continue
                seen.add((path, occ.platform))
                why = problem(Path(path), occ.platform)
                if why:
                    problems.error(occ.mark, f"account '{occ.account}': {why}")


def check_lengths(occurrences: list[Occurrence], problems: ProblemList) -> None:
    seen = set()
    for occ in occurrences:
        for number, part in enumerate(occ.parts, 1):
            if part.length <= occ.limit:
                continue
            where = f" (thread part {number})" if len(occ.parts) > 1 else ""
            size = (f"far too long ({part.length:,} characters on {occ.platform})" if part.length > FAR_TOO_LONG * occ.limit
                    else f"{part.length} characters on {occ.platform}")
            message = (f"text is {size}, the limit is {occ.limit}"
                       f"{where}; account '{occ.account}'" + (f", variant {occ.variant + 1}" if occ.variant else ""))
            if message not in seen:
                seen.add(message)
                problems.error(occ.mark, message)
        if not occ.text.strip():
            problems.error(occ.mark, "the text is empty after filling in the variables")


def check_duplicates(occurrences: list[Occurrence], accounts: dict[str, Account], problems: ProblemList) -> None:
    """X refuses a post whose text equals a recent one on the same account."""
    windows: dict[str, deque] = defaultdict(deque)
    reported = set()
    for occ in occurrences:
        if accounts[occ.account].platform != "x":
            continue
        window = windows[occ.account]
        while window and occ.due_at - window[0][0] >= DAY:
            window.popleft()
        texts = {p.text.strip() for p in occ.parts}
        for due, other, other_texts in window:
            if texts & other_texts:
                pair = (occ.account, other.campaign_id, other.post_id, occ.campaign_id, occ.post_id)
                if pair not in reported:
                    reported.add(pair)
                    problems.error(occ.mark, (
                        f"same text as {'this post' if other.key.split('/')[:3] == occ.key.split('/')[:3] else 'post ' + repr(other.post_id)} "
                        f"at {other.local_time:%Y-%m-%d %H:%M}, within 24 h on X account '{occ.account}' "
                        f"({occ.local_time:%Y-%m-%d %H:%M}); X rejects duplicates — add 'variants'"))
                break
        window.append((occ.due_at, occ, texts))


def check_daily_caps(occurrences: list[Occurrence], accounts: dict[str, Account], problems: ProblemList) -> None:
    """Warn when any 24-hour window holds more posts than the account's max_per_day."""
    windows: dict[str, deque] = defaultdict(deque)
    warned = set()
    for occ in occurrences:
        cap = accounts[occ.account].max_per_day
        if cap is None or occ.account in warned:
            continue
        window = windows[occ.account]
        for _ in occ.parts:
            window.append(occ.due_at)
        while window and occ.due_at - window[0] >= DAY:
            window.popleft()
        if len(window) > cap:
            warned.add(occ.account)
            problems.warning(accounts[occ.account].mark, (
                f"account '{occ.account}' has {len(window)} posts in the 24 h up to "
                f"{occ.local_time:%Y-%m-%d %H:%M}, more than max_per_day {cap}; "
                "'campaign run' will hold the excess back until the cap allows"))
