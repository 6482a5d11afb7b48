"""Bluesky repository exports (CARv1 of DAG-CBOR blocks) built from records, for the tests.

The atproto SDK reads CAR files but has no writer, so this builds one with the SDK's own encoder
(libipld, which the SDK depends on: bytes that are a CID are written as links): each record a
block, the records under a Merkle search tree as the PDS builds it (a key's layer is the number
of leading zero bit pairs of its SHA-256, keys prefix-compressed within a node), a signed-shaped
commit naming the DID and the tree, the CARv1 header naming the commit.
"""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import libipld


def cid_of(data: bytes) -> bytes:
    """CIDv1, DAG-CBOR, SHA-256 of a block, in binary."""
    return bytes([0x01, 0x71, 0x12, 0x20]) + hashlib.sha256(data).digest()


def cbor_value(value):
    """Lexicon JSON as DAG-CBOR values: {"$link": CID} → CID bytes, {"$bytes": base64} → bytes."""
    if isinstance(value, dict):
        if set(value) == {"$link"}:
            return libipld.decode_multibase(value["$link"])[1]
        if set(value) == {"$bytes"}:
            text = value["$bytes"]
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return {key: cbor_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cbor_value(item) for item in value]
    return value


def layer(key: str) -> int:
    digest, zeros = hashlib.sha256(key.encode()).digest(), 0
    for byte in digest:
        for shift in (6, 4, 2, 0):
            if (byte >> shift) & 3:
                return zeros
            zeros += 1
    return zeros


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class RepoBuilder:
    def __init__(self, did: str):
        self.did = did
        self.blocks: dict[bytes, bytes] = {}
        self.records: dict[str, bytes] = {}  # key → record CID

    def add_block(self, value) -> bytes:
        data = libipld.encode_dag_cbor(value)
        cid = cid_of(data)
        self.blocks[cid] = data
        return cid

    def add(self, collection: str, rkey: str, record: dict) -> str:
        """Store a record (lexicon JSON); returns its at:// uri."""
        key = f"{collection}/{rkey}"
        self.records[key] = self.add_block(cbor_value(record))
        return f"at://{self.did}/{key}"

    def _node(self, items: list[tuple[str, bytes]], level: int) -> bytes | None:
        if not items:
            return None
        left, entries, group = None, [], []
        for key, cid in items:
            if layer(key) >= level:
                subtree = self._node(group, level - 1) if level > 0 else None
                group = []
                if entries:
                    entries[-1]["t"] = subtree
                else:
                    left = subtree
                entries.append({"key": key, "v": cid, "t": None})
            else:
                group.append((key, cid))
        subtree = self._node(group, level - 1) if group and level > 0 else None
        if entries:
            entries[-1]["t"] = subtree
        else:
            left = subtree
        encoded, previous = [], b""
        for entry in entries:
            key = entry["key"].encode()
            shared = 0
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
            encoded.append({"p": shared, "k": key[shared:], "v": entry["v"], "t": entry["t"]})
            previous = key
        return self.add_block({"l": left, "e": encoded})

    def write(self, path: Path, *, commit_first: bool = True, tree: bytes | None = None) -> Path:
        """The CAR file; tree: the CID of the tree's root (default: the tree of the records)."""
        items = sorted(self.records.items())
        top = max((layer(key) for key, _ in items), default=0)
        root = tree or self._node(items, top) or self.add_block({"l": None, "e": []})
        commit = self.add_block({"did": self.did, "version": 3, "data": root, "rev": "3kabcdefghij2",
                                 "prev": None, "sig": b"\x00" * 64})
        header = libipld.encode_dag_cbor({"roots": [commit], "version": 1})
        order = [commit] + [cid for cid in reversed(self.blocks) if cid != commit] if commit_first \
            else list(self.blocks)
        with open(path, "wb") as out:
            out.write(_varint(len(header)) + header)
            for cid in order:
                data = self.blocks[cid]
                out.write(_varint(len(cid) + len(data)) + cid + data)
        return path
