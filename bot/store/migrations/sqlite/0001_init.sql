-- Initial schema (SQLite). Applied inside one transaction by bot/store/migrate.py.
-- topics/pitfalls/signal_ids are JSON arrays of strings (aggregated with json_each).

CREATE TABLE triage_records (
    record_id         TEXT PRIMARY KEY,
    ts                REAL NOT NULL,
    platform          TEXT NOT NULL,
    workspace         TEXT NOT NULL,
    channel           TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    event_id          TEXT,
    category          TEXT NOT NULL,
    confidence        REAL NOT NULL,
    topics            TEXT NOT NULL DEFAULT '[]',
    pitfalls          TEXT NOT NULL DEFAULT '[]',
    signal_ids        TEXT NOT NULL DEFAULT '[]',
    knowledge_version TEXT NOT NULL,
    latency_ms        REAL NOT NULL,
    text              TEXT
);
CREATE INDEX triage_records_ts ON triage_records (ts);
CREATE INDEX triage_records_user ON triage_records (platform, user_id);

-- One row per (record, user): the latest feedback wins.
CREATE TABLE feedback (
    record_id TEXT NOT NULL REFERENCES triage_records (record_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    choice    TEXT NOT NULL,
    ts        REAL NOT NULL,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX feedback_user ON feedback (user_id);
CREATE INDEX feedback_ts ON feedback (ts);

-- Event dedupe across worker processes (Slack retries the same event_id).
CREATE TABLE processed_events (
    platform   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX processed_events_claimed_at ON processed_events (claimed_at);

-- "Forget me" tombstones: stop records written before the request (still queued or
-- spooled somewhere) from coming back. Only a SHA-256 of the user id is kept.
CREATE TABLE forgotten_users (
    platform     TEXT NOT NULL,
    user_hash    TEXT NOT NULL,
    forgotten_at REAL NOT NULL,
    PRIMARY KEY (platform, user_hash)
);
