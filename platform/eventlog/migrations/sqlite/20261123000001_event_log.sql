-- The event log: the source of truth of every aggregate a service owns, and its outbox.
-- SQLite serialises writers (BEGIN IMMEDIATE), so `sequence` is commit order and commit_tx stays 0.

CREATE TABLE IF NOT EXISTS event_streams (
    org_id      TEXT    NOT NULL,
    stream_type TEXT    NOT NULL,
    stream_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (org_id, stream_type, stream_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
    sequence       INTEGER PRIMARY KEY AUTOINCREMENT,
    commit_tx      INTEGER NOT NULL DEFAULT 0,
    event_id       TEXT    NOT NULL UNIQUE,
    org_id         TEXT    NOT NULL,
    stream_type    TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at    TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    causation_id   TEXT    NOT NULL,
    trace_context  TEXT,
    payload        TEXT    NOT NULL,
    UNIQUE (org_id, stream_type, stream_id, version)
);

CREATE TABLE IF NOT EXISTS log_checkpoints (
    name       TEXT    PRIMARY KEY,
    commit_tx  INTEGER NOT NULL,
    sequence   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
) WITHOUT ROWID;
