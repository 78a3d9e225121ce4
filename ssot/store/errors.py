"""The store's one error type. Messages are ssot's own words: never a driver's text, which can quote
the connection string's host, user or password."""

from __future__ import annotations

from ssot.errors import SsotError


class StoreError(SsotError):
    """The run could not be recorded: the report is not where agents read it, so the run is incomplete."""

    exit_code = 3


class StoreConfigError(SsotError):
    """--store was asked for without a usable SSOT_STORE_DSN (bad usage: exit 2)."""

    exit_code = 2
