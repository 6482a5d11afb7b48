"""Bluesky's account export: the repository as one CAR file (CARv1 of DAG-CBOR blocks), from
Settings → "Export my data" or com.atproto.sync.getRepo.

The file is read twice and never held whole: a first pass checks its framing to the end and
notes where each block is (36 bytes of CID and an offset per block, whatever the records hold);
a second walks the repository's tree (the MST under the commit that the header names) in key
order, reading each block it needs from its offset. Blocks are decoded by the atproto SDK's
DAG-CBOR decoder (atproto_core.cbor, which also checks them), CIDs by its libipld.

`app.bsky.feed.post` records become posts through archive.sources.bluesky.post, the mapping
`archive fetch` uses, so a post gives the same row either way; `app.bsky.feed.repost` records
become reposts of their subject (the repository holds the account's records only: another
author's post is named by its DID and URL, its text is not in the file). `app.bsky.feed.like`
records are counted (likes()), not stored. A broken file is refused before any post is read.

The repository names its account by DID only: the handle comes from `account`
(`archive import --account`, or what the archive knows of that DID: archive.pipelines).
"""
from __future__ import annotations

import base64
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import libipld
from atproto_core.cbor import decode_dag
from atproto_core.exceptions import DAGCBORDecodingError

from ..errors import ImportFormatError
from ..records import ArchivedPost
from ..sources import bluesky
from . import MAX_RECORD

SOURCE = "bluesky-car"
POST, REPOST, LIKE = "app.bsky.feed.post", "app.bsky.feed.repost", "app.bsky.feed.like"
MAX_HEADER = 64 * 1024  # a header names one root: a few dozen bytes
MAX_DEPTH = 64  # MST layers: about log16 of the record count, so a dozen at most in real repositories


def looks_like(head: bytes) -> bool:
    """Whether the first bytes of a file open a CARv1 (a header {"roots": […], "version": 1})."""
    try:
        length, start = _varint(head, 0)
        header = decode_dag(head[start:start + length]) if 0 < length <= len(head) - start else None
    except (ValueError, DAGCBORDecodingError):
        return False
    return isinstance(header, dict) and header.get("version") == 1 and isinstance(header.get("roots"), list)


@dataclass
class Repository:
    """A CAR file's root and where its blocks are (CID bytes → (offset, length))."""

    display: str
    root: bytes
    blocks: dict[bytes, tuple[int, int]]

    def block(self, handle, cid: bytes, what: str):
        """The decoded block with that CID; ImportFormatError when the file lacks it or it is no DAG-CBOR."""
        place = self.blocks.get(cid)
        if place is None:
            raise ImportFormatError(self.display, f"lacks the block {_cid_text(cid)} ({what}); the export is incomplete")
        handle.seek(place[0])
        try:
            return decode_dag(handle.read(place[1]))
        except (DAGCBORDecodingError, RecursionError) as error:
            cause = error.__cause__ or error
            raise ImportFormatError(self.display, f"block {_cid_text(cid)} ({what}) is not valid DAG-CBOR: "
                                                  f"{cause}") from None


def read_index(handle, display: str) -> Repository:
    """The first pass: the header's root and each block's place. Raises ImportFormatError naming the
    byte where the framing breaks (truncated, damaged, not a CAR)."""
    size = os.fstat(handle.fileno()).st_size
    length, _ = _read_varint(handle, display, 0)
    if not 0 < length <= MAX_HEADER:
        raise ImportFormatError(display, "does not start with a CAR header (is it a Bluesky repository export?)")
    try:
        header = decode_dag(handle.read(length))
    except (DAGCBORDecodingError, RecursionError):
        header = None
    if not (isinstance(header, dict) and header.get("version") == 1 and isinstance(header.get("roots"), list)
            and header["roots"] and isinstance(header["roots"][0], bytes)):
        raise ImportFormatError(display, "does not start with a CARv1 header naming its root "
                                         "(is it a Bluesky repository export?)")
    blocks: dict[bytes, tuple[int, int]] = {}
    number = 0
    while (position := handle.tell()) < size:
        number += 1
        length, start = _read_varint(handle, display, position)
        if length <= 0 or start + length > size:
            raise ImportFormatError(display, f"block {number} at byte {position} runs past the end of the file "
                                             "(truncated download?)")
        if length > MAX_RECORD + 64:
            raise ImportFormatError(display, f"block {number} at byte {position} is larger than "
                                             f"{MAX_RECORD // (1024 * 1024)} MB (damaged or hostile?)")
        head = handle.read(min(length, 128))
        cid_length = _cid_length(head, display, number, position)
        blocks[head[:cid_length]] = (start + cid_length, length - cid_length)
        handle.seek(start + length)
    return Repository(display, header["roots"][0], blocks)


@contextmanager
def opened(path: Path | str):
    """(binary file, Repository) of a CAR file, its framing checked."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(str(path), "does not exist" if not path.exists() else "is not a file")
    with open(path, "rb") as handle:
        yield handle, read_index(handle, str(path))


def records(handle, repository: Repository) -> Iterator[tuple[str, bytes]]:
    """(collection/rkey, record CID) of every record in the repository, in key order (an rkey is a
    time-ordered id: oldest first within each collection)."""
    commit = repository.block(handle, repository.root, "the commit")
    if not isinstance(commit, dict) or not isinstance(commit.get("data"), bytes):
        raise ImportFormatError(repository.display, "its root is not a repository commit (no 'data')")
    yield from _walk(handle, repository, commit["data"], set(), 0)


def repository_did(path: Path | str) -> str:
    """The DID of the account whose repository the CAR file is. Raises ImportFormatError."""
    with opened(path) as (handle, repository):
        return _did(handle, repository)


def _did(handle, repository: Repository) -> str:
    commit = repository.block(handle, repository.root, "the commit")
    did = commit.get("did") if isinstance(commit, dict) else None
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ImportFormatError(repository.display, "its commit names no account (no 'did')")
    return did


def likes(path: Path | str) -> int:
    """How many app.bsky.feed.like records the repository holds (likes the account gave)."""
    with opened(path) as (handle, repository):
        return sum(1 for key, _ in records(handle, repository) if key.startswith(LIKE + "/"))


def iter_posts(path: Path | str, *, account: str | None = None) -> Iterator[ArchivedPost]:
    """Every post and repost in the repository, oldest first per collection, filed under account
    (the handle). Raises ImportFormatError: the file is broken (before any post is read), or
    account is None."""
    with opened(path) as (handle, repository):
        did = _did(handle, repository)
        handle_name = (account or "").strip().lstrip("@")
        if not handle_name:
            raise ImportFormatError(repository.display, f"is the repository of {did}, an account this archive "
                                                        "does not know: pass --account HANDLE")
        for key, cid in records(handle, repository):
            collection, _, rkey = key.partition("/")
            if collection not in (POST, REPOST):
                continue
            data = _json(repository.block(handle, cid, key))
            uri = f"at://{did}/{key}"
            try:
                if collection == POST:
                    yield bluesky.post(uri, data, handle_name, raw=data)
                else:
                    yield _repost(uri, data, did, handle_name)
            except (KeyError, ValueError, TypeError, AttributeError) as error:
                raise ImportFormatError(repository.display, f"record {key} cannot be read "
                                                            f"({type(error).__name__}: {error})") from None


def _repost(uri: str, data: dict, did: str, account: str) -> ArchivedPost:
    """A repost record: the subject's author is the account when it is the account's own post, else
    its DID (the repository does not know other accounts' handles)."""
    subject = data["subject"]["uri"]
    author = subject.split("/")[2]
    author = account if author == did else author
    reposted = ArchivedPost(platform="bluesky", remote_id=subject, account=account,
                            created_at=bluesky.parse_time(data["createdAt"]), text="",
                            url=bluesky.post_url(subject, author), conversation_id=subject)
    return bluesky.repost_of(reposted, remote_id="repost:" + subject, account=account,
                             created_at=reposted.created_at, author=author, raw=data)


def _walk(handle, repository: Repository, node_cid: bytes, seen: set, depth: int) -> Iterator[tuple[str, bytes]]:
    """The MST below node_cid in key order: the left subtree, then each entry and the subtree to its right."""
    if node_cid in seen or depth > MAX_DEPTH:
        raise ImportFormatError(repository.display, f"its tree loops or is deeper than {MAX_DEPTH} at "
                                                    f"{_cid_text(node_cid)} (damaged or hostile?)")
    seen.add(node_cid)
    node = repository.block(handle, node_cid, "a tree node")
    if not isinstance(node, dict) or not isinstance(node.get("e"), list):
        raise ImportFormatError(repository.display, f"block {_cid_text(node_cid)} is not a repository tree node")
    if isinstance(node.get("l"), bytes):
        yield from _walk(handle, repository, node["l"], seen, depth + 1)
    key = b""
    for entry in node["e"]:
        try:
            key = key[:entry.get("p", 0)] + entry["k"]
            value = entry["v"]
            name = key.decode("utf-8")
            if not isinstance(value, bytes):
                raise TypeError("v")
        except (KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise ImportFormatError(repository.display, f"tree node {_cid_text(node_cid)} has a damaged entry "
                                                        f"after key {key.decode('utf-8', 'replace')!r}") from None
        yield name, value
        if isinstance(entry.get("t"), bytes):
            yield from _walk(handle, repository, entry["t"], seen, depth + 1)


def _json(value):
    """A decoded DAG-CBOR record as lexicon JSON (what the API serves): links as {"$link": CID text},
    other bytes as {"$bytes": base64}. The decoder gives both as bytes; a link is bytes that are a CID."""
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, bytes):
        if value[:1] == b"\x01":
            try:
                return {"$link": libipld.encode_cid(value)}
            except ValueError:
                pass
        return {"$bytes": base64.b64encode(value).decode().rstrip("=")}
    return value


def _varint(data: bytes, start: int) -> tuple[int, int]:
    """(value, index after it) of the unsigned LEB128 varint at data[start:]."""
    value, shift, index = 0, 0, start
    while True:
        if index >= len(data) or shift > 56:
            raise ValueError("varint")
        byte = data[index]
        value |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            return value, index
        shift += 7


def _read_varint(handle, display: str, position: int) -> tuple[int, int]:
    """(value, file offset after it) of the varint at position."""
    data = handle.read(9)
    try:
        value, used = _varint(data, 0)
    except ValueError:
        raise ImportFormatError(display, f"is damaged at byte {position}: no block length there "
                                         "(truncated, or not a CAR file?)") from None
    handle.seek(position + used)
    return value, position + used


def _cid_length(head: bytes, display: str, number: int, position: int) -> int:
    """How many bytes of a block's start are its CID (v0: 34; v1: version, codec, multihash)."""
    try:
        if head[:2] == b"\x12\x20":
            length = 34
        else:
            version, index = _varint(head, 0)
            _, index = _varint(head, index)  # codec
            _, index = _varint(head, index)  # hash function
            size, index = _varint(head, index)
            if version != 1:
                raise ValueError("version")
            length = index + size
        if length > len(head):
            raise ValueError("short")
        libipld.decode_cid(head[:length])
    except ValueError:
        raise ImportFormatError(display, f"block {number} at byte {position} does not start with a CID "
                                         "(damaged?)") from None
    return length


def _cid_text(cid: bytes) -> str:
    try:
        return libipld.encode_cid(cid)
    except ValueError:
        return cid.hex()
