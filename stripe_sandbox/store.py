"""SQLite-backed state. One connection guarded by one re-entrant lock; objects stored as JSON.

Tables:
  objects      every Stripe object (id, type, insertion seq, indexed status/expiry/ref)
  deliveries   one row per event: webhook delivery state and schedule
  attempts     every delivery attempt (status code, error, duration)
  idempotency  idempotency keys with the stored response
  settings     runtime configuration that survives restarts (file database)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]  # a Stripe JSON object; its shape is checked by the schema tests

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created INTEGER NOT NULL,
    status TEXT,
    expires_at INTEGER,
    ref TEXT,
    data TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS objects_type_seq ON objects(type, seq);
CREATE INDEX IF NOT EXISTS objects_open ON objects(type, status, expires_at);
CREATE INDEX IF NOT EXISTS objects_ref ON objects(ref);
CREATE TABLE IF NOT EXISTS deliveries (
    event_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_at);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    url TEXT,
    status INTEGER,
    error TEXT,
    duration_ms REAL NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts(event_id);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Row:
    id: str
    type: str
    seq: int
    data: Obj
    extra: Obj


@dataclass
class Attempt:
    event_id: str
    kind: str
    at: float
    url: str | None
    status: int | None
    error: str | None
    duration_ms: float
    ok: bool

    def as_dict(self) -> Obj:
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "at": self.at,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3),
            "ok": self.ok,
        }


class Store:
    def __init__(self, path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.path = path or ":memory:"
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        row = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM objects").fetchone()
        self._seq = int(row[0])
        self._depth = 0

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[None]:
        """A write transaction; nested uses join the outer one."""
        with self.lock:
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("COMMIT")

    def next_seq(self) -> int:
        with self.lock:
            self._seq += 1
            return self._seq

    def reset(self) -> None:
        with self.tx():
            for table in ("objects", "deliveries", "attempts", "idempotency"):
                self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names

    # -- objects ------------------------------------------------------------------------
    def put(
        self,
        obj: Obj,
        *,
        status: str | None = None,
        expires_at: int | None = None,
        ref: str | None = None,
        extra: Obj | None = None,
    ) -> None:
        obj_id = str(obj["id"])
        with self.lock:
            existing = self.conn.execute(
                "SELECT seq, extra FROM objects WHERE id = ?", (obj_id,)
            ).fetchone()
            if existing is None:
                self.conn.execute(
                    "INSERT INTO objects (id, type, seq, created, status, expires_at, ref, data,"
                    " extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        obj_id,
                        str(obj["object"]),
                        self.next_seq(),
                        int(obj.get("created") or 0),
                        status,
                        expires_at,
                        ref,
                        json.dumps(obj),
                        json.dumps(extra or {}),
                    ),
                )
            else:
                self.conn.execute(
                    "UPDATE objects SET status = ?, expires_at = ?, ref = ?, data = ?, extra = ?"
                    " WHERE id = ?",
                    (
                        status,
                        expires_at,
                        ref,
                        json.dumps(obj),
                        json.dumps(extra) if extra is not None else existing[1],
                        obj_id,
                    ),
                )

    def get_row(self, obj_id: str, type_: str | None = None) -> Row | None:
        with self.lock:
            r = self.conn.execute(
                "SELECT id, type, seq, data, extra FROM objects WHERE id = ?", (obj_id,)
            ).fetchone()
        if r is None or (type_ is not None and r[1] != type_):
            return None
        return Row(r[0], r[1], int(r[2]), json.loads(r[3]), json.loads(r[4]))

    def get(self, obj_id: str, type_: str | None = None) -> Obj | None:
        row = self.get_row(obj_id, type_)
        return row.data if row else None

    def seq_of(self, obj_id: str) -> int | None:
        with self.lock:
            r = self.conn.execute("SELECT seq FROM objects WHERE id = ?", (obj_id,)).fetchone()
        return int(r[0]) if r else None

    def list_objects(
        self,
        type_: str,
        *,
        where: list[tuple[str, object]] | None = None,
        limit: int = 10,
        starting_after: int | None = None,
        ending_before: int | None = None,
    ) -> tuple[list[Obj], bool]:
        """Newest first, like Stripe. ``where`` holds (sql-fragment-with-?, value) pairs."""
        sql = "SELECT data FROM objects WHERE type = ?"
        args: list[object] = [type_]
        for fragment, value in where or []:
            sql += f" AND {fragment}"
            if isinstance(value, list):
                args.extend(value)
            else:
                args.append(value)
        if starting_after is not None:
            sql += " AND seq < ?"
            args.append(starting_after)
        if ending_before is not None:
            sql += " AND seq > ? ORDER BY seq ASC LIMIT ?"
            args += [ending_before, limit + 1]
        else:
            sql += " ORDER BY seq DESC LIMIT ?"
            args.append(limit + 1)
        with self.lock:
            rows = self.conn.execute(sql, args).fetchall()
        items = [json.loads(r[0]) for r in rows]
        has_more = len(items) > limit
        items = items[:limit]
        if ending_before is not None:
            items.reverse()
        return items, has_more

    def due_expiries(self, now: int) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT id FROM objects WHERE type = 'checkout.session' AND status = 'open'"
                " AND expires_at <= ? ORDER BY seq",
                (now,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    # -- deliveries ---------------------------------------------------------------------
    def add_delivery(self, event_id: str, next_at: float) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR IGNORE INTO deliveries (event_id, seq, state, attempts, next_at)"
                " VALUES (?, ?, 'pending', 0, ?)",
                (event_id, self.next_seq(), next_at),
            )

    def due_deliveries(self, now: float, exclude: set[str]) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT event_id FROM deliveries WHERE state = 'pending' AND next_at <= ?"
                " ORDER BY next_at, seq",
                (now,),
            ).fetchall()
        return [str(r[0]) for r in rows if r[0] not in exclude]

    def pending_deliveries(self) -> list[str]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT event_id FROM deliveries WHERE state = 'pending' ORDER BY seq"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def next_due_at(self, exclude: set[str] | None = None) -> float | None:
        """When the next pending delivery falls due, skipping ``exclude`` (in flight)."""
        exclude = exclude or set()
        with self.lock:
            rows = self.conn.execute(
                "SELECT event_id, next_at FROM deliveries WHERE state = 'pending'"
                " ORDER BY next_at LIMIT ?",
                (len(exclude) + 1,),
            ).fetchall()
        for event_id, next_at in rows:
            if event_id not in exclude:
                return float(next_at)
        return None

    def delivery(self, event_id: str) -> Obj | None:
        with self.lock:
            r = self.conn.execute(
                "SELECT event_id, state, attempts, next_at, delivered_at FROM deliveries"
                " WHERE event_id = ?",
                (event_id,),
            ).fetchone()
        if r is None:
            return None
        return {
            "event_id": r[0],
            "state": r[1],
            "attempts": int(r[2]),
            "next_attempt_at": float(r[3]) if r[1] == "pending" else None,
            "delivered_at": r[4],
        }

    def update_delivery(
        self,
        event_id: str,
        *,
        state: str,
        attempts: int,
        next_at: float,
        delivered_at: float | None,
    ) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, delivered_at = ?"
                " WHERE event_id = ?",
                (state, attempts, next_at, delivered_at, event_id),
            )

    def add_attempt(self, a: Attempt) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO attempts (event_id, kind, at, url, status, error, duration_ms, ok)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (a.event_id, a.kind, a.at, a.url, a.status, a.error, a.duration_ms, int(a.ok)),
            )

    def attempts(self, event_id: str | None = None) -> list[Attempt]:
        sql = "SELECT event_id, kind, at, url, status, error, duration_ms, ok FROM attempts"
        args: tuple[object, ...] = ()
        if event_id is not None:
            sql += " WHERE event_id = ?"
            args = (event_id,)
        with self.lock:
            rows = self.conn.execute(sql + " ORDER BY id", args).fetchall()
        return [
            Attempt(r[0], r[1], float(r[2]), r[3], r[4], r[5], float(r[6]), bool(r[7]))
            for r in rows
        ]

    # -- idempotency ----------------------------------------------------------------------
    def idem_get(self, key: str) -> tuple[str, str, int | None, str | None, float] | None:
        with self.lock:
            r = self.conn.execute(
                "SELECT fingerprint, state, status, body, created FROM idempotency WHERE key = ?",
                (key,),
            ).fetchone()
        if r is None:
            return None
        return str(r[0]), str(r[1]), r[2], r[3], float(r[4])

    def idem_begin(self, key: str, fingerprint: str, now: float) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO idempotency (key, fingerprint, state, created)"
                " VALUES (?, ?, 'running', ?)",
                (key, fingerprint, now),
            )

    def idem_finish(self, key: str, status: int, body: str) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE idempotency SET state = 'done', status = ?, body = ? WHERE key = ?",
                (status, body, key),
            )

    def idem_drop(self, key: str) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM idempotency WHERE key = ?", (key,))

    def idem_prune(self, older_than: float) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM idempotency WHERE created < ?", (older_than,))

    # -- settings -----------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        with self.lock:
            r = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(r[0]) if r else None

    def set_setting(self, key: str, value: str | None) -> None:
        with self.lock:
            if value is None:
                self.conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                self.conn.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value)
                )

    def close(self) -> None:
        with self.lock:
            self.conn.close()
