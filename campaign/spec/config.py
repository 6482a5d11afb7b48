"""Read posts.yaml into the records of campaign.spec.model, reporting every problem at once."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from campaign.spec import schedule as sched
from campaign.credentials import env_names, looks_like_secret_key
from campaign.errors import CampaignError
from campaign.spec.model import (DEFAULT_LATE, PLATFORMS, Account, Campaign, CampaignFile, Media, Part, Post,
                                 Schedule, Utm)
from campaign.spec.problems import Mark, ProblemList, did_you_mean
from campaign.spec.text import TemplateError, host_of, template_fields
from campaign.spec.config_approval import read_approval
from campaign.spec.config_notify import read_notify
from campaign.spec.config_schedule import read_schedule
from campaign.spec.media import inside as media_inside
from campaign.spec.yamlfile import YList, YMap, load_yaml

TOP_KEYS = ("timezone", "language", "late", "media_folder", "approval", "approvers", "accounts", "campaigns",
            "notify")
ACCOUNT_KEYS = ("platform", "handle", "instance", "max_per_day", "max_chars")
CAMPAIGN_KEYS = ("name", "accounts", "timezone", "language", "vars", "utm", "late", "approval", "approvers", "posts",
                 "notify")
UTM_KEYS = ("source", "medium", "campaign", "content", "term", "hosts")
POST_KEYS = ("id", "text", "variants", "thread", "media", "accounts", "at", "fold", "every", "on",
             "rrule", "from", "until", "count", "late")
PART_KEYS = ("text", "media")
MEDIA_KEYS = ("path", "alt")
UTM_PLACEHOLDERS = ("platform", "account", "campaign", "post")
MAX_MEDIA = 4
MAX_ALT = 1000  # X's limit; Mastodon and Bluesky allow more
MAX_FILE_BYTES = 5_000_000  # refused before reading: parsing is slow and memory-hungry long before this
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true/false",
               YMap: "a mapping", YList: "a list", type(None): "nothing"}


def read_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CampaignError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise CampaignError(f"{path}: is a folder, not a posts.yaml file") from None
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CampaignError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load(path: Path | str) -> tuple[CampaignFile | None, ProblemList]:
    """Parse and validate posts.yaml. Content problems are returned, never raised."""
    path = Path(path)
    problems = ProblemList(str(path))
    if _too_big(path, problems):
        return None, problems
    tree = load_yaml(read_file(path), problems)
    if problems.errors:
        return None, problems
    return _Reader(path, problems).file(tree), problems


def _too_big(path: Path, problems: ProblemList) -> bool:
    try:
        size = path.stat().st_size
    except OSError:
        return False  # read_file says why
    if size <= MAX_FILE_BYTES:
        return False
    problems.error(Mark(), f"the file is {size / 1e6:.1f} MB; posts.yaml may be at most {MAX_FILE_BYTES / 1e6:g} MB")
    return True


def _kind(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class _Reader:
    def __init__(self, path: Path, problems: ProblemList):
        self.path = path
        self.base = path.parent
        self.media_folder: Path | None = None
        self.problems = problems
        self.declared_accounts: set[str] = set()
        self.default_language: str | None = None
        self.timezone_given = False
        self.notify: list = []  # top-level and campaign targets, in file order
        self.media_hashes: dict[Path, str | None] = {}  # each file hashed once, however many posts use it

    # -- generic helpers -------------------------------------------------
    def err(self, mark: Mark, message: str) -> None:
        self.problems.error(mark, message)

    def mapping(self, value: Any, mark: Mark, what: str) -> YMap | None:
        if isinstance(value, YMap):
            return value
        self.err(mark, f"{what} must be a mapping of 'key: value' lines, not {_kind(value)}")
        return None

    def check_keys(self, node: YMap, allowed: tuple[str, ...], what: str, account: str | None = None,
                   platform: str | None = None) -> None:
        for key in node:
            if key in allowed:
                continue
            mark = node.key_mark(key)
            if looks_like_secret_key(key):
                names = env_names(account, platform) if account and platform else ()
                hint = (f"set {', '.join(names)} in the environment or .env" if names
                        else "set it in the environment or .env (see README, 'Credentials')")
                self.err(mark, f"'{key}' looks like a credential; secrets never go in posts.yaml — {hint}")
            else:
                self.err(mark, f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}")

    def text(self, node: YMap, key: str, what: str, required: bool = False) -> str | None:
        if key not in node:
            if required:
                self.err(node.mark, f"{what} needs '{key}'")
            return None
        value = node[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("text",):
            return str(value)
        if not isinstance(value, str):
            hint = " (quote it)" if isinstance(value, (bool, int, float)) else ""
            self.err(node.value_mark(key), f"'{key}' must be text, not {_kind(value)}{hint}")
            return None
        if not value.strip():
            self.err(node.value_mark(key), f"'{key}' is empty")
            return None
        return value

    def whole(self, node: YMap, key: str, minimum: int = 1) -> int | None:
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(node.value_mark(key), f"'{key}' must be a whole number, not {_kind(value)}")
            return None
        if value < minimum:
            self.err(node.value_mark(key), f"'{key}' must be at least {minimum}")
            return None
        return value

    def names(self, node: YMap, key: str) -> list[tuple[str, Mark]] | None:
        """A name or a list of names, with marks."""
        if key not in node:
            return None
        value = node[key]
        if isinstance(value, str):
            return [(value, node.value_mark(key))]
        if isinstance(value, YList) and value and all(isinstance(v, str) for v in value):
            return [(v, value.item_mark(i)) for i, v in enumerate(value)]
        self.err(node.value_mark(key), f"'{key}' must be a name or a list of names")
        return []

    def zone_name(self, node: YMap, key: str, default: str | None) -> str | None:
        name = self.text(node, key, "timezone")
        if name is None:
            return default
        try:
            sched.zone(name)
        except sched.ScheduleError as exc:
            self.err(node.value_mark(key), str(exc))
            return None
        return name

    def language(self, node: YMap, default: str | None) -> str | None:
        if "language" not in node:
            return default
        value = node["language"]
        if not isinstance(value, str) or not _LANGUAGE.match(value):
            self.err(node.value_mark("language"), f"language must be a code like 'nl' or 'en-GB', not {value!r}")
            return default
        return value

    def folder(self, node: YMap, key: str) -> Path | None:
        """A folder named relative to posts.yaml (or absolute) that must exist."""
        name = self.text(node, key, key) if key in node else None
        if name is None:
            return None
        folder = (self.base / name).resolve()
        if not folder.is_dir():
            self.err(node.value_mark(key), f"{key} '{name}' is not a folder (looked for {folder})")
            return None
        return folder

    def media_roots(self) -> list[Path]:
        return [self.base] + ([self.media_folder] if self.media_folder else [])

    def late(self, node: YMap, default: timedelta) -> timedelta:
        if "late" not in node:
            return default
        try:
            return sched.parse_duration(node["late"])
        except sched.ScheduleError as exc:
            self.err(node.value_mark("late"), f"late: {exc}")
            return default

    # -- the file --------------------------------------------------------
    def file(self, tree: Any) -> CampaignFile | None:
        if tree is None:
            self.err(Mark(), "the file is empty; it needs 'accounts' and 'campaigns'")
            return None
        root = self.mapping(tree, Mark(), "posts.yaml")
        if root is None:
            return None
        self.check_keys(root, TOP_KEYS, "the top level")
        self.timezone_given = "timezone" in root
        timezone = self.zone_name(root, "timezone", None)
        late = self.late(root, DEFAULT_LATE)
        approval = read_approval(self, root, (False, 1), top=True)
        self.default_language = self.language(root, None)
        self.media_folder = self.folder(root, "media_folder")
        accounts = self.accounts(root)
        campaigns: dict[str, Campaign] = {}
        node = root.get("campaigns")
        if "campaigns" not in root:
            self.err(root.mark, "no 'campaigns' in the file")
        elif self.mapping(node, root.value_mark("campaigns"), "'campaigns'") is not None:
            for cid, cnode in node.items():
                campaign = self.campaign(str(cid), node.key_mark(cid), cnode, node.value_mark(cid),
                                         timezone, late, accounts, approval)
                if campaign is not None:
                    campaigns[campaign.id] = campaign
        if "notify" in root:
            self.notify[:0] = read_notify(self, root, None, timezone)
        return CampaignFile(self.path, timezone or "UTC", accounts, campaigns, tuple(self.notify))

    def accounts(self, root: YMap) -> dict[str, Account]:
        if "accounts" not in root:
            self.err(root.mark, "no 'accounts' in the file")
            return {}
        node = self.mapping(root["accounts"], root.value_mark("accounts"), "'accounts'")
        out: dict[str, Account] = {}
        self.declared_accounts.update(str(name) for name in (node or {}))
        for name, anode in (node or {}).items():
            name = str(name)
            kmark = node.key_mark(name)
            if not _ID.match(name):
                self.err(kmark, f"account name '{name}' may use letters, digits, '.', '_' and '-' only")
                continue
            anode = self.mapping(anode, node.value_mark(name), f"account '{name}'")
            if anode is None:
                continue
            platform = anode.get("platform")
            if platform not in PLATFORMS:
                mark = anode.value_mark("platform") if "platform" in anode else anode.mark
                given = f"'{platform}'" if "platform" in anode else "missing"
                hint = " (did you mean 'x'?)" if str(platform).lower() in ("twitter", "tweet") else \
                    did_you_mean(platform, PLATFORMS)
                self.err(mark, f"account '{name}': platform {given}; use one of {', '.join(PLATFORMS)}{hint}")
            self.check_keys(anode, ACCOUNT_KEYS, f"account '{name}'", name, platform)
            handle = self.text(anode, "handle", f"account '{name}'", required=True)
            instance = self.text(anode, "instance", f"account '{name}'")
            if platform == "mastodon":
                if instance is None and "instance" not in anode:
                    self.err(anode.mark, f"account '{name}' (mastodon) needs 'instance', e.g. https://mastodon.social")
                elif instance is not None and host_of(instance) is None:
                    self.err(anode.value_mark("instance"), "instance must be a URL like https://mastodon.social")
            elif platform == "bluesky" and instance is not None and host_of(instance) is None:
                self.err(anode.value_mark("instance"), "instance must be the PDS URL, e.g. https://bsky.social")
            elif platform == "x" and instance is not None:
                self.err(anode.key_mark("instance"), "'instance' is for mastodon (and a Bluesky PDS), not for x")
            max_chars = self.whole(anode, "max_chars")
            if max_chars is not None and platform != "mastodon":
                self.err(anode.key_mark("max_chars"), "'max_chars' is only for mastodon accounts (instances differ)")
            if platform in PLATFORMS and handle is not None:
                out[name] = Account(name, platform, handle, instance, self.whole(anode, "max_per_day"),
                                    max_chars, kmark)
        return out

    def campaign(self, cid: str, kmark: Mark, node: Any, vmark: Mark, default_tz: str | None,
                 default_late: timedelta, accounts: dict[str, Account],
                 default_approval: tuple[bool, int] = (False, 1)) -> Campaign | None:
        if not _ID.match(cid):
            self.err(kmark, f"campaign id '{cid}' may use letters, digits, '.', '_' and '-' only")
            return None
        node = self.mapping(node, vmark, f"campaign '{cid}'")
        if node is None:
            return None
        self.check_keys(node, CAMPAIGN_KEYS, f"campaign '{cid}'")
        name = self.text(node, "name", f"campaign '{cid}'") or cid
        tz = self.zone_name(node, "timezone", default_tz)
        if tz is None and "timezone" not in node and not self.timezone_given:
            self.err(node.mark, f"campaign '{cid}' has no time zone: add 'timezone: Europe/Amsterdam' "
                                "at the top of the file or in the campaign")
        late = self.late(node, default_late)
        required, approvers = read_approval(self, node, default_approval, top=False)
        language = self.language(node, self.default_language)
        campaign_accounts = self.account_refs(node, accounts)
        self.campaign_names_accounts = "accounts" in node
        variables = self.variables(node)
        utm = self.utm(node, variables)
        if "notify" in node:
            self.notify.extend(read_notify(self, node, cid, tz))
        posts: list[Post] = []
        seen_ids: dict[str, Mark] = {}
        pnode = node.get("posts")
        if "posts" not in node:
            self.problems.warning(node.mark, f"campaign '{cid}' has no posts")
        elif not isinstance(pnode, YList):
            self.err(node.value_mark("posts"), f"'posts' must be a list of posts, not {_kind(pnode)}")
        else:
            for i, item in enumerate(pnode):
                post = self.post(cid, item, pnode.item_mark(i), campaign_accounts, accounts, variables,
                                 late)
                if post is None:
                    continue
                if post.id in seen_ids:
                    self.err(post.mark, f"post id '{post.id}' is used twice in campaign '{cid}' "
                                        f"(first at line {seen_ids[post.id].line}); give each post its own 'id'")
                    continue
                seen_ids[post.id] = post.mark
                posts.append(post)
        if tz is None:
            return None
        return Campaign(cid, name, tz, campaign_accounts, variables, utm, tuple(posts), kmark, language,
                        approvers if required else 0)

    def account_refs(self, node: YMap, accounts: dict[str, Account]) -> tuple[str, ...]:
        out = []
        for ref, mark in self.names(node, "accounts") or []:
            if ref not in accounts:
                if ref not in self.declared_accounts:
                    self.err(mark, f"unknown account '{ref}'{did_you_mean(ref, self.declared_accounts)}")
            else:
                out.append(ref)
        return tuple(dict.fromkeys(out))

    def variables(self, node: YMap) -> dict:
        if "vars" not in node:
            return {}
        vnode = self.mapping(node["vars"], node.value_mark("vars"), "'vars'")
        out = {}
        for key, value in (vnode or {}).items():
            if not isinstance(key, str) or not key.isidentifier():
                self.err(vnode.key_mark(key), f"variable name '{key}' must be a word (letters, digits, _)")
            elif looks_like_secret_key(key):
                self.err(vnode.key_mark(key), f"'{key}' looks like a credential; secrets never go in posts.yaml "
                                              "— set it in the environment or .env")
            elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
                out[key] = value
            else:
                self.err(vnode.value_mark(key), f"variable '{key}' must be text or a number, not {_kind(value)}")
        return out

    def utm(self, node: YMap, variables: dict) -> Utm | None:
        if "utm" not in node:
            return None
        unode = self.mapping(node["utm"], node.value_mark("utm"), "'utm'")
        if unode is None:
            return None
        self.check_keys(unode, UTM_KEYS, "'utm'")
        defaults = {"source": "{platform}", "medium": "social", "campaign": "{campaign}", "content": "{post}"}
        params = []
        for key in ("source", "medium", "campaign", "content", "term"):
            value = self.text(unode, key, "'utm'") if key in unode else defaults.get(key)
            if value is None:
                continue
            try:
                unknown = [f for f in template_fields(value) if f not in UTM_PLACEHOLDERS]
            except TemplateError as exc:
                self.err(unode.value_mark(key), f"utm {key}: {exc}")
                continue
            if unknown:
                self.err(unode.value_mark(key), f"utm {key}: unknown placeholder '{{{unknown[0]}}}'; "
                                                f"use {', '.join('{' + p + '}' for p in UTM_PLACEHOLDERS)}")
                continue
            params.append((f"utm_{key}", value))
        hosts = {h for h in (host_of(v) for v in variables.values()) if h}
        for host, _ in self.names(unode, "hosts") or []:
            hosts.add(host.lower())
        if not hosts:
            self.problems.warning(unode.mark, "utm: no links to tag — no URL in 'vars' and no 'hosts' given")
        return Utm(tuple(params), frozenset(hosts))

    # -- posts -----------------------------------------------------------
    def post(self, cid: str, node: Any, mark: Mark, campaign_accounts: tuple[str, ...],
             accounts: dict[str, Account], variables: dict, default_late: timedelta) -> Post | None:
        if isinstance(node, str):
            self.err(mark, "a post needs a schedule: write it as a mapping with 'text' and 'at'")
            return None
        node = self.mapping(node, mark, "a post")
        if node is None:
            return None
        self.check_keys(node, POST_KEYS, "a post")
        bodies = [k for k in ("text", "variants", "thread") if k in node]
        if len(bodies) != 1:
            self.err(node.mark, "a post needs exactly one of 'text', 'variants' or 'thread'"
                     + (f" (found {', '.join(bodies)})" if bodies else ""))
            variants: tuple[tuple[Part, ...], ...] = ()
            text_mark = node.mark
        else:
            text_mark = node.value_mark(bodies[0])
            variants = self.body(node, bodies[0], variables)
        post_media = self.media(node, "media") if "media" in node else ()
        if post_media and variants:
            variants = tuple((Part(v[0].text, post_media + v[0].media, v[0].mark),) + v[1:] for v in variants)
            self.check_media_count(node.value_mark("media"), variants)
        post_accounts = self.account_refs(node, accounts) if "accounts" in node else campaign_accounts
        if not post_accounts and "accounts" not in node and not self.campaign_names_accounts:
            self.err(node.mark, f"no account: give campaign '{cid}' or this post 'accounts'")
        schedule = self.schedule(node)
        late = self.late(node, default_late)
        post_id = self.post_id(node, variants)
        if schedule is None or not variants or post_id is None:
            return None
        return Post(post_id, cid, post_accounts, variants, schedule, late, node.mark, text_mark)

    def post_id(self, node: YMap, variants) -> str | None:
        if "id" in node:
            value = node["id"]
            if isinstance(value, bool) or not isinstance(value, (str, int)) or not _ID.match(str(value)):
                self.err(node.value_mark("id"), "'id' may use letters, digits, '.', '_' and '-' only")
                return None
            return str(value)
        if not variants:
            return None
        # Derived from the first text only, so moving or inserting other posts never changes it.
        digest = hashlib.sha256(variants[0][0].text.strip().encode()).hexdigest()[:10]
        return f"p-{digest}"

    def body(self, node: YMap, key: str, variables: dict) -> tuple[tuple[Part, ...], ...]:
        value, mark = node[key], node.value_mark(key)
        if key == "text":
            part = self.part(value, mark, variables)
            return ((part,),) if part else ()
        if not isinstance(value, YList) or not value:
            self.err(mark, f"'{key}' must be a non-empty list of texts")
            return ()
        parts = [self.part(item, value.item_mark(i), variables) for i, item in enumerate(value)]
        if any(p is None for p in parts):
            return ()
        if key == "variants":
            return tuple((p,) for p in parts)
        return (tuple(parts),)

    def part(self, value: Any, mark: Mark, variables: dict) -> Part | None:
        media: tuple[Media, ...] = ()
        if isinstance(value, YMap):
            self.check_keys(value, PART_KEYS, "a text with media")
            text = self.text(value, "text", "a text with media", required=True)
            media = self.media(value, "media") if "media" in value else ()
            text_mark = value.value_mark("text")
        elif isinstance(value, str):
            text, text_mark = value, mark
            if not text.strip():
                self.err(mark, "the text is empty")
                return None
        else:
            self.err(mark, f"a text must be text, not {_kind(value)}" + (" (quote it)" if isinstance(value, (bool, int, float)) else ""))
            return None
        if text is None:
            return None
        try:
            for name in template_fields(text):
                if name not in variables:
                    self.err(text_mark, f"undefined variable '{{{name}}}'{did_you_mean(name, variables)}; "
                                        "define it under the campaign's 'vars'")
        except TemplateError as exc:
            self.err(text_mark, str(exc))
            return None
        if len(media) > MAX_MEDIA:
            self.err(mark, f"at most {MAX_MEDIA} media per post")
        return Part(text, media, text_mark)

    def check_media_count(self, mark: Mark, variants) -> None:
        if any(len(v[0].media) > MAX_MEDIA for v in variants):
            self.err(mark, f"at most {MAX_MEDIA} media per post")

    def media(self, node: YMap, key: str) -> tuple[Media, ...]:
        value, mark = node[key], node.value_mark(key)
        items = [(value, mark)] if isinstance(value, YMap) else (
            [(v, value.item_mark(i)) for i, v in enumerate(value)] if isinstance(value, YList) else None)
        if items is None:
            self.err(mark, "'media' must be a mapping with 'path' and 'alt', or a list of them")
            return ()
        out = []
        for item, imark in items:
            item = self.mapping(item, imark, "a media item")
            if item is None:
                continue
            self.check_keys(item, MEDIA_KEYS, "a media item")
            path = self.text(item, "path", "a media item", required=True)
            alt = self.text(item, "alt", "a media item") if "alt" in item else None
            if "alt" not in item:
                self.err(item.mark, "media needs 'alt' text: describe the image for people who cannot see it")
            if path is None:
                continue
            full = (self.base / path).resolve()
            exists = full.is_file()
            if not exists:
                self.err(item.value_mark("path"), f"media file '{path}' not found (looked in {full.parent})")
            elif not media_inside(full, self.media_roots()):
                # posts.yaml is reviewed in git; what it uploads must be reviewed with it.
                self.err(item.value_mark("path"), f"media file '{path}' is outside the campaign folder "
                                                  f"{self.base.resolve()}"
                                                  + (" or media_folder" if self.media_folder else ""))
                continue
            if alt is not None and len(alt) > MAX_ALT:
                self.err(item.value_mark("alt"), f"alt text is {len(alt)} characters; X allows {MAX_ALT}")
            if alt is not None:
                out.append(Media(full, alt, imark, self.media_hash(full) if exists else None))
        return tuple(out)

    def media_hash(self, path: Path) -> str | None:
        """The file's SHA-256, once per path; None when it cannot be read (plan.check_media says why)."""
        if path not in self.media_hashes:
            from campaign.spec.media import sha256

            try:
                self.media_hashes[path] = sha256(path)
            except OSError:
                self.media_hashes[path] = None
        return self.media_hashes[path]

    def schedule(self, node: YMap) -> Schedule | None:
        return read_schedule(self, node)
