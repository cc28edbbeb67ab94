"""Replay metrics as flat scalars for TensorBoard: ``{"replay/<table>/<name>": value}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten_info(info: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Numbers of ``ReplayClient.info()``; nested dicts (the rate limiter) get their own prefix.

    Infinite bounds (a MinSize limiter has no ratio window) are left out.
    """
    out: dict[str, float] = {}

    def walk(prefix: str, d: Mapping[str, Any]) -> None:
        for k, v in d.items():
            if isinstance(v, Mapping):
                walk(f"{prefix}/{k}", v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                if abs(float(v)) != float("inf"):
                    out[f"{prefix}/{k}"] = float(v)

    for table, tinfo in info.items():
        walk(f"replay/{table}", tinfo)
    return out
