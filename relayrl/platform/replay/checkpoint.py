"""Checkpoint files of the replay service, written so that a crash never breaks the last one.

Layout of a checkpoint root::

    LATEST                 name of the newest complete checkpoint (replaced atomically)
    ckpt-000003/           one complete checkpoint
        MANIFEST.json      format, version, table configs, size and CRC32 of every file
        <table>.shard<j>/  meta.json + one .npy per array, written by the actor owning shard j
    .tmp-<uuid>/           a checkpoint being written (ignored by restore)

Protocol: shards write into a fresh temporary directory, the client adds the manifest, the
directory is renamed to ``ckpt-<n>`` and only then ``LATEST`` is replaced (write to a
temporary file, fsync, ``os.replace``). A crash at any point leaves ``LATEST`` naming the
previous, complete checkpoint. Restore checks format, version, table configs and every
file's CRC32 before any table is touched. Arrays are stored with ``allow_pickle=False``:
a checkpoint can never execute code.

Shards write their own files, so the checkpoint directory must be reachable from every
replay actor (the same machine, or a shared file system on a cluster).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from relayrl.platform.replay.config import (
    Field,
    FrameStackField,
    MinSize,
    Queue,
    SampleToInsertRatio,
    TableConfig,
)
from relayrl.platform.replay.errors import CheckpointError

FORMAT = "relayrl-replay-checkpoint"
VERSION = 1
MANIFEST = "MANIFEST.json"
LATEST = "LATEST"
KEEP = 2  # complete checkpoints kept in a root


# ---- configs as JSON ----------------------------------------------------------------------

def config_to_json(config: TableConfig) -> dict[str, Any]:
    out = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    rl = config.rate_limiter
    out["rate_limiter"] = {"type": type(rl).__name__, **dataclasses.asdict(rl)}
    out["signature"] = [{"type": type(e).__name__, **dataclasses.asdict(e)}
                        for e in config.signature]
    for e in out["signature"]:
        for k in ("shape", "frame_shape"):
            if k in e:
                e[k] = list(e[k])
    return out


def config_from_json(d: dict[str, Any]) -> TableConfig:
    limiters = {"MinSize": MinSize, "SampleToInsertRatio": SampleToInsertRatio, "Queue": Queue}
    entries = {"Field": Field, "FrameStackField": FrameStackField}
    d = dict(d)
    rl = dict(d["rate_limiter"])
    d["rate_limiter"] = limiters[rl.pop("type")](**rl)
    sig = []
    for e in d["signature"]:
        e = dict(e)
        cls = entries[e.pop("type")]
        for k in ("shape", "frame_shape"):
            if k in e:
                e[k] = tuple(e[k])
        sig.append(cls(**e))
    d["signature"] = tuple(sig)
    return TableConfig(**d)


def config_differences(saved: dict[str, Any], running: TableConfig) -> list[str]:
    now = json.loads(json.dumps(config_to_json(running)))
    saved = json.loads(json.dumps(saved))
    keys = sorted(set(saved) | set(now))
    return [f"{k}: checkpoint has {saved.get(k)!r}, service has {now.get(k)!r}"
            for k in keys if saved.get(k) != now.get(k)]


# ---- files ----------------------------------------------------------------------------------

def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            crc = zlib.crc32(chunk, crc)
    return crc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, write) -> dict[str, Any]:
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return {"bytes": path.stat().st_size, "crc32": _crc32(path)}


def begin(root: str | os.PathLike) -> Path:
    """Create the temporary directory a new checkpoint is written into."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    return tmp


def shard_dir_name(table: str, shard_index: int) -> str:
    return f"{table}.shard{shard_index}"


def write_shard(tmp: str | os.PathLike, table: str, shard_index: int, meta: dict[str, Any],
                arrays: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Write one table shard's state; returns ``{relative path: {bytes, crc32}}``."""
    rel = shard_dir_name(table, shard_index)
    d = Path(tmp) / rel
    d.mkdir()
    files = {}
    for name, arr in arrays.items():
        files[f"{rel}/{name}.npy"] = _write_file(
            d / f"{name}.npy", lambda f, a=arr: np.save(f, np.ascontiguousarray(a),
                                                        allow_pickle=False))
    payload = json.dumps({**meta, "arrays": sorted(arrays)}).encode()
    files[f"{rel}/meta.json"] = _write_file(d / "meta.json", lambda f: f.write(payload))
    _fsync_dir(d)
    return files


def commit(root: str | os.PathLike, tmp: str | os.PathLike, configs: list[TableConfig],
           files: dict[str, dict[str, Any]]) -> Path:
    """Add the manifest, publish ``tmp`` as the next ``ckpt-<n>``, then move ``LATEST``."""
    root, tmp = Path(root), Path(tmp)
    manifest = {"format": FORMAT, "version": VERSION,
                "tables": [config_to_json(c) for c in configs], "files": files}
    payload = json.dumps(manifest, indent=1).encode()
    _write_file(tmp / MANIFEST, lambda f: f.write(payload))
    _fsync_dir(tmp)
    numbers = [int(p.name[5:]) for p in root.glob("ckpt-*") if p.name[5:].isdigit()]
    final = root / f"ckpt-{max(numbers, default=0) + 1:06d}"
    os.rename(tmp, final)
    _fsync_dir(root)
    latest_tmp = root / f".{LATEST}.{uuid.uuid4().hex}"
    _write_file(latest_tmp, lambda f: f.write(final.name.encode()))
    os.replace(latest_tmp, root / LATEST)
    _fsync_dir(root)
    for old in sorted(p for p in root.glob("ckpt-*") if p.name[5:].isdigit())[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def abort(tmp: str | os.PathLike) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def resolve(directory: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The checkpoint ``directory`` names (a root with LATEST, or one ckpt-<n>) and its manifest."""
    d = Path(directory)
    if not d.is_dir():
        raise CheckpointError(f"no replay checkpoint at {str(d)!r}: not a directory")
    if not (d / MANIFEST).exists():
        latest = d / LATEST
        if not latest.exists():
            raise CheckpointError(
                f"no replay checkpoint at {str(d)!r}: expected a {LATEST} file or a {MANIFEST} "
                f"written by ReplayClient.checkpoint")
        d = d / latest.read_text().strip()
    try:
        manifest = json.loads((d / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"replay checkpoint {str(d)!r}: unreadable {MANIFEST} ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{str(d)!r} is not a relayrl replay checkpoint (format "
                              f"{manifest.get('format') if isinstance(manifest, dict) else None!r}, "
                              f"expected {FORMAT!r})")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"replay checkpoint {str(d)!r} has version "
                              f"{manifest.get('version')!r}; this service reads version {VERSION}")
    return d, manifest


def check_tables(path: Path, manifest: dict[str, Any], configs: list[TableConfig]) -> None:
    """The checkpoint must hold exactly the running tables, configured the same way."""
    saved = {t["name"]: t for t in manifest["tables"]}
    running = {c.name: c for c in configs}
    if set(saved) != set(running):
        raise CheckpointError(
            f"replay checkpoint {str(path)!r} holds tables {sorted(saved)} but the service runs "
            f"{sorted(running)}")
    for name, c in running.items():
        diff = config_differences(saved[name], c)
        if diff:
            raise CheckpointError(f"replay checkpoint {str(path)!r}: table {name!r} was saved "
                                  f"with another configuration: " + "; ".join(diff))


def verify_files(path: Path, manifest: dict[str, Any], prefixes: list[str]) -> None:
    """CRC-check every file of the given shard directories."""
    for rel, entry in manifest["files"].items():
        if rel.split("/")[0] not in prefixes:
            continue
        p = path / rel
        if not p.exists():
            raise CheckpointError(f"replay checkpoint {str(path)!r}: file {rel!r} is missing")
        if p.stat().st_size != entry["bytes"] or _crc32(p) != entry["crc32"]:
            raise CheckpointError(f"replay checkpoint {str(path)!r}: file {rel!r} is corrupt "
                                  f"(size or CRC32 differs from the manifest)")
    for prefix in prefixes:
        if not any(rel.startswith(prefix + "/") for rel in manifest["files"]):
            raise CheckpointError(f"replay checkpoint {str(path)!r} has no files for {prefix!r}")


def read_shard(path: Path, table: str, shard_index: int
               ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    d = path / shard_dir_name(table, shard_index)
    try:
        meta = json.loads((d / "meta.json").read_text())
        arrays = {n: np.load(d / f"{n}.npy", allow_pickle=False) for n in meta.pop("arrays")}
    except (OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"replay checkpoint {str(path)!r}: cannot read {d.name} ({e})") from None
    return meta, arrays
