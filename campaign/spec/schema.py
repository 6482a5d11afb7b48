"""The JSON Schema (draft 2020-12) of posts.yaml, built from campaign.spec.keys.

Editors with yaml-language-server (VS Code's YAML extension and others) read it for completion,
hover help and inline errors. It describes the shape of the file; what needs the whole file or
the platforms (unknown accounts, lengths, DST) is left to `campaign check`.
"""
from __future__ import annotations

from campaign.spec import keys
from campaign.spec.keys import Key

SCHEMA_ID = "https://praatmee.nl/schema/posts.schema.json"


def _object(entries: tuple[Key, ...], description: str, **extra) -> dict:
    return {"type": "object", "description": description, "additionalProperties": False,
            "properties": {key.name: {**key.schema, "description": key.description, "examples": [key.example]}
                           for key in entries}, **extra}


def posts_schema() -> dict:
    account = _object(keys.ACCOUNT, "One account: its platform and handle.", required=["platform"], allOf=[
        {"if": {"properties": {"platform": {"const": "mastodon"}}},
         "then": {"required": ["handle", "instance"]}},
        {"if": {"properties": {"platform": {"const": "linkedin"}}},
         "then": {"required": ["organization"]},
         "else": {"required": ["handle"], "not": {"required": ["organization"]}}},
    ])
    post = _object(keys.POST, "One post: one body (text, variants or thread) and a schedule (at, or every/rrule "
                              "with from and until/count).",
                   oneOf=[{"required": ["text"]}, {"required": ["variants"]}, {"required": ["thread"]}],
                   anyOf=[{"required": ["at"]}, {"required": ["every", "from"]}, {"required": ["rrule", "from"]}])
    part_object = _object(keys.PART, "A text with its own media or card.", required=["text"])
    media_item = _object(keys.MEDIA, "An image or video with its alt text.", required=["path", "alt"])
    card = _object(keys.CARD, "A link card written by hand.", dependentRequired={"image": ["alt"]}, minProperties=1)
    group = _object(keys.NOTIFY_GROUP, "A group of notification URLs.", required=["urls"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "posts.yaml (Praat mee: campaign)",
        **_object(keys.TOP, "Campaign posts for X, Mastodon, Bluesky, LinkedIn and Threads, checked by "
                            "`campaign check`.", required=["accounts", "campaigns"]),
        "$defs": {
            "account": account,
            "campaign": _object(keys.CAMPAIGN, "One campaign: its accounts, variables and posts."),
            "utm": _object(keys.UTM, "utm_* parameters added to the campaign's own links."),
            "post": post,
            "part": {"oneOf": [{"type": "string", "minLength": 1}, part_object],
                     "description": "A text, or {text, media, card}."},
            "media": media_item,
            "media_list": {"oneOf": [{"$ref": "#/$defs/media"},
                                     {"type": "array", "items": {"$ref": "#/$defs/media"}, "minItems": 1,
                                      "maxItems": 4}]},
            "card": card,
            "card_or_flag": {"oneOf": [{"type": "boolean"}, {"$ref": "#/$defs/card"}]},
            "notify_group": group,
            "notify": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/notify_group"},
                                 {"type": "array", "minItems": 1,
                                  "items": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/notify_group"}]}}]},
        },
    }
