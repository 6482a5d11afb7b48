"""Checks over the expanded occurrences beyond length and media: what a platform refuses outright
(characters, Threads' links and tags, a card without a link) and what is almost certainly a
mistake (warnings: a time in the past, http links, one text on two accounts at once, a card
nobody will see).

Every check reports a problem once per post, at the post's text, whatever the number of its
occurrences.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from campaign.spec.model import CampaignFile
from campaign.spec.problems import ProblemList
from campaign.spec.text import threads_problems, unsendable, urls, x_invalid

SAME_TEXT_WINDOW = timedelta(minutes=15)
FAR_AHEAD = timedelta(days=366)


def run_all(cfile: CampaignFile, occurrences: list, problems: ProblemList, now: datetime | None) -> None:
    now = now or datetime.now(timezone.utc)
    report = _Once(problems)
    check_characters(occurrences, report)
    check_threads(occurrences, report)
    check_cards(cfile, occurrences, report)
    check_links(occurrences, report)
    check_same_text_elsewhere(occurrences, report)
    check_times(cfile, occurrences, report, now)


class _Once:
    """Reports each (severity, place, message) once."""

    def __init__(self, problems: ProblemList):
        self.problems = problems
        self.seen: set = set()

    def __call__(self, severity: str, mark, message: str) -> None:
        key = (severity, mark, message)
        if key not in self.seen:
            self.seen.add(key)
            {"error": self.problems.error, "warning": self.problems.warning,
             "note": self.problems.note}[severity](mark, message)


def _far_too_long(occ, part) -> bool:
    """Already an error; parsing a megabyte for links would take seconds to say nothing new."""
    from campaign.spec.plan import FAR_TOO_LONG

    return len(part.text) > FAR_TOO_LONG * occ.limit


def _part_label(occ, number: int) -> str:
    return f" (thread part {number})" if len(occ.parts) > 1 else ""


def check_characters(occurrences, report: _Once) -> None:
    for occ in occurrences:
        for number, part in enumerate(occ.parts, 1):
            why = unsendable(part.text)
            if why is None and occ.platform == "x" and not _far_too_long(occ, part):
                why = x_invalid(part.text)
                if why:
                    why += f" (twitter-text marks it invalid); account '{occ.account}'"
            if why:
                report("error", occ.mark, why + _part_label(occ, number))


def check_threads(occurrences, report: _Once) -> None:
    for occ in occurrences:
        if occ.platform != "threads":
            continue
        for number, part in enumerate(occ.parts, 1):
            if unsendable(part.text) or _far_too_long(occ, part):
                continue
            for why in threads_problems(part.text):
                report("error", occ.mark, f"text has {why}{_part_label(occ, number)}; account '{occ.account}'")


CARD_PLATFORMS = ("bluesky", "linkedin")  # the platforms that take a link card from the post itself
PLATFORM_NAMES = {"bluesky": "Bluesky", "linkedin": "LinkedIn"}


def check_cards(cfile: CampaignFile, occurrences, report: _Once) -> None:
    from campaign.spec.cards import card_link
    from campaign.spec.media import problem

    with_cards: dict[str, bool] = defaultdict(bool)
    marks = {}
    for occ in occurrences:
        post = f"{occ.campaign_id}/{occ.post_id}"
        if any(part.card is not True for part in occ.parts):
            marks[post] = occ.mark
        if occ.platform not in CARD_PLATFORMS:
            continue
        with_cards[post] = True
        for number, part in enumerate(occ.parts, 1):
            if part.card is False or unsendable(part.text) is not None or _far_too_long(occ, part):
                continue
            link = card_link(part.text)
            if link is not None and (number == 1 or occ.platform == "bluesky"):  # LinkedIn: the post, not comments
                how = "written by hand" if isinstance(part.card, dict) else "from the page's own preview data"
                report("note", occ.mark, f"{PLATFORM_NAMES[occ.platform]} shows a link card for {link} ({how})"
                                         f"{_part_label(occ, number)}")
            if not isinstance(part.card, dict):
                continue
            if unsendable(part.text) is None and not _far_too_long(occ, part) and card_link(part.text) is None:
                report("error", occ.mark, "a card needs a link: the text has no http(s) link for the card to "
                                          f"open{_part_label(occ, number)}")
            image = part.card.get("image")
            if image:
                why = problem(Path(image["path"]), "bluesky")
                if why:
                    report("error", occ.mark, f"card image: {why.replace('media file', 'file')}")
    for post, mark in marks.items():
        if not with_cards[post]:
            report("warning", mark, "'card' is set but this post goes to no Bluesky or LinkedIn account; only "
                                    "those show cards")


def check_links(occurrences, report: _Once) -> None:
    for occ in occurrences:
        for part in occ.parts:
            if unsendable(part.text) or _far_too_long(occ, part):
                continue
            for _start, _end, url in urls(part.text):
                if url.lower().startswith("http://"):
                    report("warning", occ.mark, f"link '{_short(url)}' is not https: readers get a warning or a "
                                                "redirect; write https:// if the site has it")


def _short(url: str) -> str:
    url = url.split("?", 1)[0]
    return url if len(url) <= 60 else url[:59] + "…"


def check_same_text_elsewhere(occurrences, report: _Once) -> None:
    """The same text on two accounts of one platform within minutes looks like a copy-paste slip
    (and platforms treat such pairs as spam)."""
    recent: dict[tuple[str, str], list] = defaultdict(list)  # (platform, text) -> occurrences
    reported = set()
    for occ in occurrences:  # in time order
        text = occ.parts[0].text.strip()
        earlier = recent[(occ.platform, text)]
        for other in earlier:
            if other.account != occ.account and occ.due_at - other.due_at <= SAME_TEXT_WINDOW:
                pair = (occ.campaign_id, occ.post_id, other.campaign_id, other.post_id, other.account, occ.account)
                if pair in reported:
                    break
                reported.add(pair)  # once per pair of posts and accounts, at its first occurrence
                minutes = int((occ.due_at - other.due_at).total_seconds() // 60)
                report("warning", occ.mark, (
                    f"same text on {occ.platform} accounts '{other.account}' and '{occ.account}' "
                    + (f"{minutes} minutes apart" if minutes else "at the same time")
                    + f" ({occ.local_time:%Y-%m-%d %H:%M}); meant for one of them, or vary the text?"))
                break
        earlier.append(occ)
        while earlier and occ.due_at - earlier[0].due_at > SAME_TEXT_WINDOW:
            earlier.pop(0)


def check_times(cfile: CampaignFile, occurrences, report: _Once, now: datetime) -> None:
    """A one-off `at` in the past or more than a year ahead (a mistyped year); a recurrence whose
    every occurrence is already past."""
    by_post: dict[tuple[str, str], list] = defaultdict(list)
    for occ in occurrences:
        by_post[(occ.campaign_id, occ.post_id)].append(occ)
    for campaign in cfile.campaigns.values():
        for post in campaign.posts:
            occs = by_post.get((campaign.id, post.id))
            if not occs:
                continue
            mark = post.schedule.mark
            if not post.schedule.recurring:
                due = occs[0]
                if due.due_at + due.late < now:
                    report("warning", mark, f"'at' {due.local_time:%Y-%m-%d %H:%M} is in the past: 'campaign sync' "
                                            "will mark it missed; a typo in the year?")
                elif due.due_at - now > FAR_AHEAD:
                    report("warning", mark, f"'at' {due.local_time:%Y-%m-%d %H:%M} is more than a year ahead; "
                                            "a typo in the year?")
            elif all(o.due_at + o.late < now for o in occs):
                report("warning", mark, f"every occurrence of this recurrence is in the past (the last "
                                        f"{max(o.local_time for o in occs):%Y-%m-%d %H:%M}); check 'from' and 'until'")
