"""Read posts.yaml into the records of campaign.spec.model, reporting every problem at once."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from campaign.spec import keys, schedule as sched
from campaign.credentials import env_names, looks_like_secret_key
from campaign.errors import CampaignError
from campaign.spec.model import (DEFAULT_LATE, PLATFORMS, Account, Campaign, CampaignFile, Card, Media, Part,
                                 Post, Schedule, Utm)
from campaign.spec.problems import Mark, ProblemList, did_you_mean
from campaign.spec.text import TemplateError, host_of, template_fields
from campaign.spec.config_approval import read_approval
from campaign.spec.config_notify import read_notify
from campaign.spec.config_schedule import read_schedule
from campaign.spec.media import inside as media_inside
from campaign.spec.yamlfile import YList, YMap, load_yaml

# The allowed keys come from campaign.spec.keys, which the JSON Schema (`campaign schema`) is built from too.
TOP_KEYS = keys.names(keys.TOP)
ACCOUNT_KEYS = keys.names(keys.ACCOUNT)
CAMPAIGN_KEYS = keys.names(keys.CAMPAIGN)
UTM_KEYS = keys.names(keys.UTM)
POST_KEYS = keys.names(keys.POST)
PART_KEYS = keys.names(keys.PART)
MEDIA_KEYS = keys.names(keys.MEDIA)
CARD_KEYS = keys.names(keys.CARD)
MAX_CARD_TITLE = 300  # what a Bluesky card shows is far shorter; past this it is a pasted text
UTM_PLACEHOLDERS = ("platform", "account", "campaign", "post")
MAX_MEDIA = 4
MAX_ALT = 1000  # X's limit; Mastodon and Bluesky allow more
MAX_FILE_BYTES = 5_000_000  # refused before reading: parsing is slow and memory-hungry long before this
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_ORGANIZATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
_PLACEHOLDER_ALTS = {"image", "img", "picture", "photo", "foto", "afbeelding", "plaatje", "beeld", "alt",
                     "alt text", "alttekst", "todo", "tbd", "description", "beschrijving", "logo", "screenshot",
                     "schermafbeelding", "banner", "graphic", "grafiek", "x", "test"}
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
    if tree is None and problems.errors:
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
        self.post_count = 0
        self.typos: dict[int, set[str]] = {}  # id(node) -> keys its unknown keys were taken for
        self.misplaced: set[str] = set()  # keys of the current campaign found at the wrong level

    # -- generic helpers -------------------------------------------------
    def err(self, mark: Mark, message: str) -> None:
        self.problems.error(mark, message)

    def mapping(self, value: Any, mark: Mark, what: str) -> YMap | None:
        if isinstance(value, YMap):
            return value
        hint = ""
        if isinstance(value, YList) and value and all(isinstance(item, YMap) for item in value):
            hint = ": remove the '- ' in front of the items"
        self.err(mark, f"{what} must be a mapping of 'key: value' lines, not {_kind(value)}{hint}")
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
                elsewhere = self.elsewhere(key)
                hint = "" if elsewhere else did_you_mean(key, allowed)
                if hint:
                    # The key it stands for counts as written: "needs 'text'" would repeat this problem.
                    self.typos.setdefault(id(node), set()).add(hint.split("'")[1])
                if elsewhere:
                    self.misplaced.add(key)
                self.err(mark, f"unknown key '{key}' in {what}{hint or elsewhere}")

    def elsewhere(self, key) -> str:
        """For a key that belongs at another level: where it does belong (indentation slip?)."""
        for allowed, where in ((POST_KEYS, "a post"), (ACCOUNT_KEYS, "an account"), (CAMPAIGN_KEYS, "a campaign"),
                               (TOP_KEYS, "the top level"), (MEDIA_KEYS, "a media item"), (CARD_KEYS, "a card")):
            if key in allowed:
                return f" ('{key}' belongs in {where}: check its indentation)"
        return ""

    def typo_of(self, node: YMap, key: str) -> bool:
        """Whether an unknown key of `node` was reported as a typo of `key`."""
        return key in self.typos.get(id(node), ())

    def text(self, node: YMap, key: str, what: str, required: bool = False) -> str | None:
        if key not in node:
            if required and not self.typo_of(node, key):
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
        self.timezone_given = "timezone" in root or self.typo_of(root, "timezone")
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
        return CampaignFile(self.path, timezone or "UTC", accounts, campaigns, tuple(self.notify), self.post_count)

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
            self.check_keys(anode, ACCOUNT_KEYS, f"account '{name}'", name, platform)
            if platform not in PLATFORMS and not ("platform" not in anode and self.typo_of(anode, "platform")):
                mark = anode.value_mark("platform") if "platform" in anode else anode.mark
                given = f"'{platform}'" if "platform" in anode else "missing"
                hint = " (did you mean 'x'?)" if str(platform).lower() in ("twitter", "tweet") else \
                    did_you_mean(platform, PLATFORMS)
                self.err(mark, f"account '{name}': platform {given}; use one of {', '.join(PLATFORMS)}{hint}")
            organization = self.organization(anode, name, platform)
            if platform == "linkedin" and "handle" not in anode:
                handle = organization  # a page is known by its organisation; the handle only labels it
            else:
                handle = self.text(anode, "handle", f"account '{name}'", required=True)
            instance = self.text(anode, "instance", f"account '{name}'")
            if platform == "mastodon":
                if instance is None and "instance" not in anode:
                    self.err(anode.mark, f"account '{name}' (mastodon) needs 'instance', e.g. https://mastodon.social")
                elif instance is not None and host_of(instance) is None:
                    self.err(anode.value_mark("instance"), "instance must be a URL like https://mastodon.social")
            elif platform == "bluesky" and instance is not None and host_of(instance) is None:
                self.err(anode.value_mark("instance"), "instance must be the PDS URL, e.g. https://bsky.social")
            elif platform in ("x", "linkedin", "threads") and instance is not None:
                self.err(anode.key_mark("instance"), f"'instance' is for mastodon (and a Bluesky PDS), not for {platform}")
            max_chars = self.whole(anode, "max_chars")
            if max_chars is not None and platform != "mastodon":
                self.err(anode.key_mark("max_chars"), "'max_chars' is only for mastodon accounts (instances differ)")
            if platform in PLATFORMS and handle is not None and (platform != "linkedin" or organization):
                out[name] = Account(name, platform, handle, instance, self.whole(anode, "max_per_day"),
                                    max_chars, kmark, organization)
        return out

    def organization(self, anode: YMap, name: str, platform: Any) -> str | None:
        """LinkedIn's organisation page: its numeric id or vanity name; required there, refused elsewhere."""
        if "organization" not in anode:
            if platform == "linkedin":
                self.err(anode.mark, f"account '{name}' (linkedin) needs 'organization': the page's numeric id "
                                     "or vanity name, e.g. 'organization: gemeente-utrecht'")
            return None
        if platform != "linkedin":
            if platform in PLATFORMS:
                self.err(anode.key_mark("organization"), f"'organization' is for linkedin accounts, not for {platform}")
            return None
        value = anode["organization"]
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not _ORGANIZATION.match(str(value)):
            self.err(anode.value_mark("organization"), "organization must be the page's numeric id (12345) or "
                                                       "its vanity name (letters, digits and '-', e.g. gemeente-utrecht)")
            return None
        return str(value)

    def campaign(self, cid: str, kmark: Mark, node: Any, vmark: Mark, default_tz: str | None,
                 default_late: timedelta, accounts: dict[str, Account],
                 default_approval: tuple[bool, int] = (False, 1)) -> Campaign | None:
        if not _ID.match(cid):
            self.err(kmark, f"campaign id '{cid}' may use letters, digits, '.', '_' and '-' only")
            return None
        node = self.mapping(node, vmark, f"campaign '{cid}'")
        if node is None:
            return None
        self.misplaced = set()
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
            hint = ": start each post with '- '" if isinstance(pnode, YMap) else ""
            self.err(node.value_mark("posts"), f"'posts' must be a list of posts, not {_kind(pnode)}{hint}")
        else:
            self.post_count += len(pnode)
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
                if "," in ref and all(part.strip() in self.declared_accounts for part in ref.split(",")):
                    self.err(mark, f"'{ref}' is one name to YAML: write a list, [{ref}]")
                elif ref not in self.declared_accounts:
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
        default_card = self.card(node["card"], node.value_mark("card"), variables) if "card" in node else True
        bodies = [k for k in ("text", "variants", "thread") if k in node]
        if not bodies and any(self.typo_of(node, k) for k in ("text", "variants", "thread")):
            variants = ()
            text_mark = node.mark
        elif len(bodies) != 1:
            self.err(node.mark, "a post needs exactly one of 'text', 'variants' or 'thread'"
                     + (f" (found {', '.join(bodies)})" if bodies else ""))
            variants: tuple[tuple[Part, ...], ...] = ()
            text_mark = node.mark
        else:
            text_mark = node.value_mark(bodies[0])
            variants = self.body(node, bodies[0], variables, default_card)
        post_media = self.media(node, "media") if "media" in node else ()
        if post_media and variants:
            variants = tuple((Part(v[0].text, post_media + v[0].media, v[0].mark, v[0].card),) + v[1:]
                             for v in variants)
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

    def body(self, node: YMap, key: str, variables: dict, default_card=True) -> tuple[tuple[Part, ...], ...]:
        value, mark = node[key], node.value_mark(key)
        if key == "text":
            part = self.part(value, mark, variables, default_card)
            return ((part,),) if part else ()
        if not isinstance(value, YList) or not value:
            self.err(mark, f"'{key}' must be a non-empty list of texts")
            return ()
        parts = [self.part(item, value.item_mark(i), variables, default_card) for i, item in enumerate(value)]
        if any(p is None for p in parts):
            return ()
        if key == "variants":
            return tuple((p,) for p in parts)
        return (tuple(parts),)

    def part(self, value: Any, mark: Mark, variables: dict, card=True) -> Part | None:
        media: tuple[Media, ...] = ()
        if isinstance(value, YMap) and value and "text" not in value and all(v is None for v in value.values()):
            # `text: {link}`: braces without quotes make a YAML mapping of the placeholder.
            names = ", ".join(f"{{{k}}}" for k in value)
            self.err(mark, f"{names} without quotes is a YAML mapping, not a text: put the text in quotes, "
                           f"e.g. \"{names}\"")
            return None
        if isinstance(value, YMap):
            self.check_keys(value, PART_KEYS, "a text with media")
            text = self.text(value, "text", "a text with media", required=True)
            media = self.media(value, "media") if "media" in value else ()
            if "card" in value:
                card = self.card(value["card"], value.value_mark("card"), variables)
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
            template_fields(text)
        except TemplateError as exc:
            self.err(text_mark, str(exc))
            return None
        self.template_ok(text, text_mark, variables)
        if len(media) > MAX_MEDIA:
            self.err(mark, f"at most {MAX_MEDIA} media per post")
        return Part(text, media, text_mark, card)

    def card_text(self, node: YMap, key: str, variables: dict) -> str | None:
        text = self.text(node, key, "'card'")
        if text is not None and len(text) > MAX_CARD_TITLE:
            self.err(node.value_mark(key), f"card {key} is {len(text)} characters; keep it under {MAX_CARD_TITLE}")
            return None
        if text is not None and not self.template_ok(text, node.value_mark(key), variables):
            return None
        return text

    def template_ok(self, text: str, mark: Mark, variables: dict) -> bool:
        """Whether every {name} in `text` is a defined variable (each problem reported)."""
        try:
            missing = [name for name in template_fields(text) if name not in variables]
        except TemplateError as exc:
            self.err(mark, str(exc))
            return False
        for name in missing:
            self.err(mark, f"undefined variable '{{{name}}}'{did_you_mean(name, variables)}; "
                           "define it under the campaign's 'vars'")
        return not missing

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
            media = self.media_file(item, imark, "path", "media")
            if media is not None:
                out.append(media)
        return tuple(out)

    def media_file(self, item: YMap, imark: Mark, key: str, what: str) -> Media | None:
        """One file named by item[key] with item['alt']: inside the campaign folder, alt text given."""
        path = self.text(item, key, f"a {what} item" if what == "media" else f"a {what}", required=True)
        alt = self.text(item, "alt", "a media item") if "alt" in item else None
        if "alt" not in item:
            self.err(item.mark, f"{'media' if what == 'media' else 'a card image'} needs 'alt' text: describe the "
                                "image for people who cannot see it")
        if path is None:
            return None
        full = (self.base / path).resolve()
        exists = full.is_file()
        if not exists:
            self.err(item.value_mark(key), f"{what} file '{path}' not found (looked in {full.parent})")
            return None
        if not media_inside(full, self.media_roots()):
            # posts.yaml is reviewed in git; what it uploads must be reviewed with it.
            self.err(item.value_mark(key), f"{what} file '{path}' is outside the campaign folder "
                                           f"{self.base.resolve()}"
                                           + (" or media_folder" if self.media_folder else ""))
            return None
        if alt is not None and len(alt) > MAX_ALT:
            self.err(item.value_mark("alt"), f"alt text is {len(alt)} characters; X allows {MAX_ALT}")
        elif alt is not None:
            self.alt_says_nothing(alt, full, item.value_mark("alt"))
        if alt is None:
            return None
        return Media(full, alt, imark, self.media_hash(full) if exists else None)

    def alt_says_nothing(self, alt: str, path: Path, mark: Mark) -> None:
        """Alt text that only repeats the file name or a placeholder helps nobody who cannot see the image."""
        words = re.sub(r"[\W_]+", " ", alt.lower()).strip()
        names = {re.sub(r"[\W_]+", " ", name.lower()).strip() for name in (path.name, path.stem)}
        if words in names:
            self.problems.warning(mark, f"alt text '{alt.strip()}' repeats the file name: describe what the "
                                        "image shows")
        elif len(words.replace(" ", "")) < 3 or words in _PLACEHOLDER_ALTS:
            self.problems.warning(mark, f"alt text '{alt.strip()}' says nothing about the image: describe what "
                                        "it shows")

    def card(self, value: Any, mark: Mark, variables: dict) -> Card | bool:
        """`card: false` (no card), `card: true` (automatic) or a card written by hand."""
        if isinstance(value, bool):
            return value
        node = self.mapping(value, mark, "'card'")
        if node is None:
            return True
        self.check_keys(node, CARD_KEYS, "'card'")
        title, description = (self.card_text(node, key, variables) for key in ("title", "description"))
        image = None
        if "image" in node:
            image = self.media_file(node, node.mark, "image", "card image")
        elif "alt" in node:
            self.err(node.key_mark("alt"), "'alt' describes the card's 'image'; add 'image' or remove 'alt'")
        if title is None and description is None and image is None and "title" not in node \
                and "description" not in node and "image" not in node:
            self.err(mark, "a card needs 'title', 'description' or 'image' (or write 'card: false' for none)")
        return Card(title, description, image, mark)

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
