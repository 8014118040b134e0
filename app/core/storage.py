"""The storage interface (DESIGN §5): files outside static/, under random keys, read back only
by authorised views. A local directory by default; another backend only has to offer the same
four functions."""

import secrets
from pathlib import Path

from flask import current_app

from app.config import ROOT


def _root() -> Path:
    root = Path(current_app.config["STORAGE_DIR"])
    return root if root.is_absolute() else ROOT / root


def _path(key: str) -> Path:
    if not key or "/" not in key or ".." in key or key.startswith("/"):
        raise ValueError("bad storage key")
    return _root() / key


def save(area: str, data: bytes, suffix: str) -> str:
    """Store `data` and return its key (`area/<random>.<suffix>`); never overwrites."""
    key = f"{area}/{secrets.token_urlsafe(24)}.{suffix}"
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)  # a reader never sees half a file
    return key


class TooLarge(Exception):
    pass


def save_stream(area: str, head: bytes, stream, suffix: str, max_bytes: int) -> tuple[str, int]:
    """Store `head` then the rest of `stream` in 64 KB chunks, so a 20 MB upload never sits in
    memory; returns (key, size). Past `max_bytes` the partial file is removed and TooLarge raised.
    """
    key = f"{area}/{secrets.token_urlsafe(24)}.{suffix}"
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    size = 0
    try:
        with tmp.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                out.write(chunk)
                chunk = stream.read(65536)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return key, size


def path_of(key: str) -> Path:
    return _path(key)


def read(key: str) -> bytes:
    return _path(key).read_bytes()


def delete(key: str | None) -> None:
    if key:
        _path(key).unlink(missing_ok=True)
