-- The event log: the source of truth of every aggregate a service owns, and its outbox.

-- One row per stream: its current version. The optimistic-concurrency check is a conditional update of this row,
-- so writers of different streams never wait for each other.
CREATE TABLE IF NOT EXISTS event_streams (
    org_id      TEXT   NOT NULL,
    stream_type TEXT   NOT NULL,
    stream_id   TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    PRIMARY KEY (org_id, stream_type, stream_id)
);

CREATE TABLE IF NOT EXISTS events (
    sequence       BIGSERIAL   PRIMARY KEY,
    -- The writing transaction's id. Readers of the whole log order by (commit_tx, sequence) and stop below the
    -- oldest transaction still running, so an event that commits late is never skipped (a bare bigserial is not
    -- commit order).
    commit_tx      BIGINT      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id       UUID        NOT NULL UNIQUE,
    org_id         TEXT        NOT NULL,
    stream_type    TEXT        NOT NULL,
    stream_id      TEXT        NOT NULL,
    version        BIGINT      NOT NULL,
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    actor          TEXT        NOT NULL,
    correlation_id UUID        NOT NULL,
    causation_id   UUID        NOT NULL,
    trace_context  TEXT,
    payload        JSONB       NOT NULL,
    UNIQUE (org_id, stream_type, stream_id, version)
);

CREATE INDEX IF NOT EXISTS events_commit_order ON events (commit_tx, sequence);

-- How far each reader of the whole log (the outbox relay, projections, log-tailing consumers) has got.
CREATE TABLE IF NOT EXISTS log_checkpoints (
    name       TEXT        PRIMARY KEY,
    commit_tx  BIGINT      NOT NULL,
    sequence   BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The idempotency record of consumers: written in the same transaction as the consumer's effect.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
