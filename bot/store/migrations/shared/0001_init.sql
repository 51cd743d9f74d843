-- Initial schema, for SQLite and PostgreSQL alike. Applied inside one transaction by
-- bot/store/migrate.py, which fills in what the two spell differently from the Dialect
-- (bot/store/dialect.py): {float} is REAL / DOUBLE PRECISION; {array} and {empty_array}
-- are a JSON array of strings in TEXT / a TEXT[] (aggregated with json_each / unnest).
-- Unqualified names: in PostgreSQL they land in the connection's search_path.

CREATE TABLE triage_records (
    record_id         TEXT PRIMARY KEY,
    ts                {float} NOT NULL,
    platform          TEXT NOT NULL,
    workspace         TEXT NOT NULL,
    channel           TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    event_id          TEXT,
    category          TEXT NOT NULL,
    confidence        {float} NOT NULL,
    topics            {array} NOT NULL DEFAULT {empty_array},
    pitfalls          {array} NOT NULL DEFAULT {empty_array},
    signal_ids        {array} NOT NULL DEFAULT {empty_array},
    knowledge_version TEXT NOT NULL,
    latency_ms        {float} NOT NULL,
    text              TEXT
);
CREATE INDEX triage_records_ts ON triage_records (ts);
CREATE INDEX triage_records_user ON triage_records (platform, user_id);

-- One row per (record, user): the latest feedback wins.
CREATE TABLE feedback (
    record_id TEXT NOT NULL REFERENCES triage_records (record_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    choice    TEXT NOT NULL,
    ts        {float} NOT NULL,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX feedback_user ON feedback (user_id);
CREATE INDEX feedback_ts ON feedback (ts);

-- Event dedupe across worker processes (Slack retries the same event_id).
CREATE TABLE processed_events (
    platform   TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    claimed_at {float} NOT NULL,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX processed_events_claimed_at ON processed_events (claimed_at);

-- "Forget me" tombstones: stop records written before the request (still queued or
-- spooled somewhere) from coming back. Only a SHA-256 of the user id is kept.
CREATE TABLE forgotten_users (
    platform     TEXT NOT NULL,
    user_hash    TEXT NOT NULL,
    forgotten_at {float} NOT NULL,
    PRIMARY KEY (platform, user_hash)
);
