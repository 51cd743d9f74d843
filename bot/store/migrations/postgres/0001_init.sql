-- Initial schema (PostgreSQL). Applied inside one transaction, under an advisory lock,
-- by bot/store/migrate.py. Unqualified names: they land in the connection's search_path.

CREATE TABLE triage_records (
    record_id         TEXT PRIMARY KEY,
    ts                DOUBLE PRECISION NOT NULL,
    platform          TEXT NOT NULL,
    workspace         TEXT NOT NULL,
    channel           TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    event_id          TEXT,
    category          TEXT NOT NULL,
    confidence        DOUBLE PRECISION NOT NULL,
    topics            TEXT[] NOT NULL DEFAULT '{}',
    pitfalls          TEXT[] NOT NULL DEFAULT '{}',
    signal_ids        TEXT[] NOT NULL DEFAULT '{}',
    knowledge_version TEXT NOT NULL,
    latency_ms        DOUBLE PRECISION NOT NULL,
    text              TEXT
);
CREATE INDEX triage_records_ts ON triage_records (ts);
CREATE INDEX triage_records_user ON triage_records (platform, user_id);

-- One row per (record, user): the latest feedback wins.
CREATE TABLE feedback (
    record_id TEXT NOT NULL REFERENCES triage_records (record_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    choice    TEXT NOT NULL,
    ts        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX feedback_user ON feedback (user_id);
CREATE INDEX feedback_ts ON feedback (ts);

-- Event dedupe across worker processes (Slack retries the same event_id).
CREATE TABLE processed_events (
    platform   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    claimed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX processed_events_claimed_at ON processed_events (claimed_at);

-- "Forget me" tombstones: stop records written before the request (still queued or
-- spooled somewhere) from coming back. Only a SHA-256 of the user id is kept.
CREATE TABLE forgotten_users (
    platform     TEXT NOT NULL,
    user_hash    TEXT NOT NULL,
    forgotten_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, user_hash)
);
