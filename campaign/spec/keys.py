"""Every key of posts.yaml: where it may stand, what it means, an example, the shape of its value.

One home for this knowledge: campaign.spec.config takes its lists of allowed keys from here (an
unknown key is an error), and campaign.spec.schema builds the JSON Schema that editors use for
completion and inline errors from the same entries, so the two cannot drift apart
(tests/test_schema_file.py checks it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaign.spec.model import NOTIFY_EVENTS, PLATFORMS


@dataclass(frozen=True)
class Key:
    """One key of posts.yaml: what check accepts for it and what `campaign schema` says of it."""

    name: str
    description: str
    example: Any
    schema: dict  # JSON Schema of the value; "$ref": "#/$defs/…" for the shared shapes


def names(keys: tuple[Key, ...]) -> tuple[str, ...]:
    return tuple(key.name for key in keys)


_STRING = {"type": "string", "minLength": 1}
_WHOLE = {"type": "integer", "minimum": 1}
_ZONE = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"}
_LANGUAGE = {"type": "string", "pattern": r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"}
_DURATION = {"oneOf": [{"type": "string", "pattern": r"^\s*(\d+\s*[dhmsDHMS]\s*)+$"},
                       {"type": "integer", "minimum": 0}]}
_NAMES = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_DATE_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?$"}
_DATE_OR_DATE_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$"}
_TIME_OF_DAY = {"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}\s*$"}
_APPROVAL = Key("approval", "Whether each post must be approved in the web workspace before it is sent: "
                            "'required' or 'none' (the default). A campaign inherits it from the top level.",
                "required", {"enum": ["required", "none"]})
_APPROVERS = Key("approvers", "How many distinct people must approve each post (with 'approval: required'; "
                              "default 1).", 2, _WHOLE)
_LATE = Key("late", "How late a post may still go out after its due time: 30m, 2h, 1d, 1h30m (a bare number "
                    "means minutes; default 1h). Later, it counts as missed and is not posted.", "1h", _DURATION)
_TIMEZONE = Key("timezone", "The IANA time zone of every local date and time in the file (or the campaign).",
                "Europe/Amsterdam", _ZONE)
_LANGUAGE_KEY = Key("language", "The posts' language as a BCP 47 code, passed to Mastodon and Bluesky.", "nl",
                    _LANGUAGE)
_NOTIFY = Key("notify", "Where alerts go: an Apprise URL, a list of URLs, or groups with 'urls', 'events', "
                        "'digest'. Secrets as {env:NAME}.", "{env:TEAMS_WEBHOOK}", {"$ref": "#/$defs/notify"})

TOP = (
    _TIMEZONE,
    _LANGUAGE_KEY,
    _LATE,
    Key("media_folder", "A folder (relative to posts.yaml) from which media may also be taken, besides "
                        "posts.yaml's own folder.", "../beeldbank", _STRING),
    _APPROVAL,
    _APPROVERS,
    Key("accounts", "The accounts posts go to: your name for each account, then its platform and handle. "
                    "Credentials never go here (see README, 'Credentials').",
        {"teamsaantstuur": {"platform": "x", "handle": "@teamsaantstuur"}},
        {"type": "object", "additionalProperties": {"$ref": "#/$defs/account"},
         "propertyNames": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"}}),
    Key("campaigns", "The campaigns: a stable id for each, then its accounts, variables and posts.",
        {"teams-aan-het-stuur": {"accounts": ["teamsaantstuur"], "posts": []}},
        {"type": "object", "additionalProperties": {"$ref": "#/$defs/campaign"},
         "propertyNames": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"}}),
    _NOTIFY,
)

ACCOUNT = (
    Key("platform", f"Where the account lives: {', '.join(PLATFORMS)}.", "x", {"enum": list(PLATFORMS)}),
    Key("handle", "The account's handle, e.g. @name (X, Bluesky, Threads) or @name@instance (Mastodon). "
                  "Optional for linkedin (defaults to 'organization').", "@teamsaantstuur", _STRING),
    Key("instance", "Mastodon: the server's URL (required). Bluesky: the PDS URL if not bsky.social.",
        "https://social.utrecht.nl", {"type": "string", "pattern": r"^https?://"}),
    Key("max_per_day", "Posts the account may make in any 24 hours; check and plan warn beyond it and run "
                       "holds the excess back.", 17, _WHOLE),
    Key("max_chars", "Mastodon only: the instance's character limit if it is not 500.", 500, _WHOLE),
    Key("organization", "LinkedIn only (required there): the organisation page's numeric id or vanity name.",
        "gemeente-utrecht", {"oneOf": [{"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$"},
                                       {"type": "integer", "minimum": 0}]}),
)

UTM = (
    Key("source", "utm_source; may use {platform}, {account}, {campaign}, {post}. Default {platform}.",
        "{platform}", _STRING),
    Key("medium", "utm_medium (default social).", "social", _STRING),
    Key("campaign", "utm_campaign (default {campaign}).", "teams-aan-het-stuur", _STRING),
    Key("content", "utm_content (default {post}).", "{post}", _STRING),
    Key("term", "utm_term (left out unless given).", "vacature", _STRING),
    Key("hosts", "More hosts whose links get tagged, besides the hosts of URL-valued vars.",
        ["publicpapersutrecht.nl"], _NAMES),
)

CAMPAIGN = (
    Key("name", "The campaign's name as people read it (default: its id).", "Teams aan het stuur!", _STRING),
    Key("accounts", "The accounts this campaign's posts go to (a post may override it).",
        ["teamsaantstuur", "teamsaantstuur_social"], _NAMES),
    _TIMEZONE,
    _LANGUAGE_KEY,
    Key("vars", "Template variables, used in texts as {name}.",
        {"link": "https://publicpapersutrecht.nl/teams-aan-het-stuur"},
        {"type": "object", "additionalProperties": {"type": ["string", "number"]},
         "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}}),
    Key("utm", "Tag the campaign's own links with utm_* parameters for analytics.",
        {"medium": "social"}, {"$ref": "#/$defs/utm"}),
    _LATE,
    _APPROVAL,
    _APPROVERS,
    Key("posts", "The campaign's posts, each with one body (text, variants or thread) and a schedule.",
        [{"id": "aankondiging", "text": "Praat mee: {link}", "at": "2027-01-18 10:00"}],
        {"type": "array", "items": {"$ref": "#/$defs/post"}}),
    _NOTIFY,
)

MEDIA = (
    Key("path", "The image or video file, relative to posts.yaml (inside its folder or media_folder).",
        "media/stadskantoor030.png", _STRING),
    Key("alt", "The description for people who cannot see the image (required).",
        "Een rode deur van het Stadskantoor in Utrecht.", _STRING),
)

CARD = (
    Key("title", "The card's title (Bluesky).", "Teams aan het stuur!", _STRING),
    Key("description", "The card's description (Bluesky).", "Een public paper over zelfstandige teams.", _STRING),
    Key("image", "The card's thumbnail, relative to posts.yaml (Bluesky takes up to 1 MB).",
        "media/kaart.png", _STRING),
    Key("alt", "The thumbnail's description (required with 'image').", "Het logo van de public paper.", _STRING),
)

_CARD = Key("card", "Bluesky's link card: leave it out for an automatic card from the first https link, "
                    "'false' for none, or write title, description and image by hand. Other platforms "
                    "ignore it.", {"title": "Teams aan het stuur!", "description": "Praat mee"},
            {"$ref": "#/$defs/card_or_flag"})
_MEDIA = Key("media", "Up to 4 images (or a video) with alt text: one {path, alt} or a list of them.",
             {"path": "media/stadskantoor030.png", "alt": "Een rode deur van het Stadskantoor."},
             {"$ref": "#/$defs/media_list"})

PART = (
    Key("text", "The part's text; {name} for the campaign's vars.", "Lees het artikel: {artikel}", _STRING),
    _MEDIA,
    _CARD,
)

_TEXTS = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/part"}}
POST = (
    Key("id", "A stable identity (letters, digits, '.', '_', '-'): editing the text then updates the queued "
              "post instead of replacing it.", "aankondiging",
        {"type": ["string", "integer"], "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"}),
    Key("text", "One text ({name} for the campaign's vars), or {text, media, card}.",
        "Nog even en dan gaat de Public Paper online: {link}", {"$ref": "#/$defs/part"}),
    Key("variants", "Texts used in turn, one per occurrence: X refuses a repeat of a recent text.",
        ["Praat mee! {link}", "Laat jouw mening horen via {link}"], _TEXTS),
    Key("thread", "Parts posted as a reply chain.", ["Een draadje 🧵", "Lees verder: {artikel}"], _TEXTS),
    _MEDIA,
    _CARD,
    Key("accounts", "The accounts this post goes to, instead of the campaign's.", ["teamsaantstuur"], _NAMES),
    Key("at", "Once: the local date and time ('2027-01-18 10:00'). With every/rrule: the time of day, or a "
              "list of them (quote it: \"10:00\").", "2027-01-18 10:00",
        {"oneOf": [_DATE_TIME, _TIME_OF_DAY, {"type": "array", "items": _TIME_OF_DAY, "minItems": 1}]}),
    Key("fold", "For a local time that happens twice or not at all at a DST change: earlier or later.",
        "earlier", {"enum": ["earlier", "later"]}),
    Key("every", "Repeat: day, week, month, year, weekday, or '2 weeks', '3 days' …", "week",
        {"type": "string", "pattern": r"^\s*(\d+\s+)?(day|week|month|year|weekday)s?\s*$"}),
    Key("on", "With every: weekdays (mon … sun, or ma … zo) or days of the month (1, 15, -1).",
        ["mon", "thu"], {"oneOf": [{"type": ["string", "integer"]},
                                   {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1}]}),
    Key("rrule", "Repeat by an RFC 5545 rule (without DTSTART), e.g. FREQ=MONTHLY;BYDAY=1MO.",
        "FREQ=MONTHLY;BYDAY=1MO", {"type": "string", "pattern": r"(?i)FREQ="}),
    Key("from", "The first day of a recurrence (required with every/rrule).", "2027-01-25", _DATE_OR_DATE_TIME),
    Key("until", "The last day of a recurrence, inclusive (or give count).", "2027-03-04", _DATE_OR_DATE_TIME),
    Key("count", "How many occurrences a recurrence has (or give until).", 8, _WHOLE),
    _LATE,
)

NOTIFY_GROUP = (
    Key("urls", "Apprise URLs (quote each; secrets as {env:NAME}).", ["{env:TEAMS_WEBHOOK}"], _NAMES),
    Key("events", f"Which events: {', '.join(NOTIFY_EVENTS)} (default: every event).", ["failed", "missed"],
        {"oneOf": [{"enum": list(NOTIFY_EVENTS)},
                   {"type": "array", "items": {"enum": list(NOTIFY_EVENTS)}, "minItems": 1}]}),
    Key("digest", "daily: one message a day listing the events, instead of one per event.", "daily",
        {"enum": ["daily"]}),
    Key("digest_at", "The local time of the daily digest (default 09:00).", "08:30", _TIME_OF_DAY),
)
