"""Errors of the replay service.

Each error says what was wrong and what would be accepted, so that a user reading a
traceback from a remote actor knows what to change without opening the source.
"""

from __future__ import annotations


class ReplayError(RuntimeError):
    """Base class of every error the replay service raises on purpose."""


class ReplayConfigError(ReplayError, ValueError):
    """A table configuration that is invalid or could deadlock; raised at construction."""


class SignatureError(ReplayError, ValueError):
    """Inserted data that does not match the table's signature (field, dtype or shape)."""


class ReplayTimeoutError(ReplayError, TimeoutError):
    """A blocking insert or sample did not get through before its timeout."""


class CheckpointError(ReplayError):
    """A checkpoint that is missing, corrupt, foreign, or does not fit the running tables."""
