"""What a media file really is, and whether a platform takes it: by its first bytes, never by its
name (a text file called foto.png must not go out as an image), and within the platform's size."""
from __future__ import annotations

from pathlib import Path

MB = 1_000_000

# (kind, first bytes, offset of those bytes)
_SIGNATURES = (
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0),
    ("image/webp", b"WEBP", 8),  # after "RIFF" and the length
    ("video/mp4", b"ftyp", 4),
)

# What each platform module can post, and the largest file the platform takes of each kind.
ACCEPTED: dict[str, dict[str, int]] = {
    "x": {"image/png": 5 * MB, "image/jpeg": 5 * MB, "image/webp": 5 * MB, "image/gif": 15 * MB},
    "mastodon": {"image/png": 16 * MB, "image/jpeg": 16 * MB, "image/webp": 16 * MB, "image/gif": 16 * MB,
                 "video/mp4": 99 * MB},
    "bluesky": {"image/png": 1 * MB, "image/jpeg": 1 * MB, "image/webp": 1 * MB, "image/gif": 1 * MB},
    # LinkedIn's Images API takes JPEG, PNG and GIF; 5 MB is the commonly documented ceiling.
    "linkedin": {"image/png": 5 * MB, "image/jpeg": 5 * MB, "image/gif": 5 * MB},
    # Threads fetches images from a public URL: JPEG and PNG up to 8 MB.
    "threads": {"image/png": 8 * MB, "image/jpeg": 8 * MB},
}


def sniff(path: Path) -> str | None:
    """The file's type from its content, or None when it is no image or video we know."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head[:4] == b"RIFF" and head[8:12] != b"WEBP":
        return None
    for kind, magic, offset in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return kind
    return None


def sha256(path: Path) -> str:
    """The file's content as a SHA-256 hex digest: what an approval of a post with this file was given
    on (raises OSError when it cannot be read)."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def changed_since_planned(media: dict) -> bool:
    """Whether a payload's media entry ({"path", "alt", "sha256"}) no longer holds the content it was
    planned (and approved) with: a different file under the same name, or one that cannot be read.
    An entry without a sha256 (queued before it was recorded) is not compared."""
    expected = media.get("sha256")
    if not expected:
        return False
    try:
        return sha256(Path(media["path"])) != expected
    except OSError:
        return True


def inside(path: Path, roots: list[Path]) -> bool:
    """Whether `path`, with every symlink followed, lies in one of `roots`."""
    real = path.resolve()
    return any(real.is_relative_to(root.resolve()) for root in roots)


def problem(path: Path, platform: str) -> str | None:
    """Why `platform` would refuse this file (type by content, size), or None."""
    try:
        if not path.is_file():
            return f"media file '{path.name}' is not a regular file"
        kind = sniff(path)
        size = path.stat().st_size
    except OSError as error:
        return f"media file '{path.name}' cannot be read ({error.strerror or error})"
    if kind is None:
        return f"media file '{path.name}' is not an image or video (its content is neither PNG, JPEG, GIF, WebP nor MP4)"
    limits = ACCEPTED.get(platform, {})
    if kind not in limits:
        takes = ", ".join(sorted({k.split("/")[1].upper() for k in limits}))
        return f"media file '{path.name}' is {kind}; {platform} posts here take {takes}"
    if size > limits[kind]:
        return (f"media file '{path.name}' is {size / MB:.1f} MB; {platform} takes {kind} up to "
                f"{limits[kind] / MB:.0f} MB")
    return None
