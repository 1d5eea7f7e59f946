-- What the HTTP API keeps: credentials, the audit log, background jobs,
-- cover requests and their offers, server secrets.

-- API tokens and calendar-feed tokens. The secret is never stored, only its
-- argon2 hash; `id` is the public half of the token.
CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL,
    region_id   TEXT,
    grant_data  TEXT NOT NULL,      -- Grant as JSON
    label       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX credentials_region ON credentials(region_id);

-- Append-only: the triggers refuse every UPDATE and DELETE.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    address     TEXT,
    region_id   TEXT,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_region ON audit_log(region_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    month       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    finished_at TEXT,
    result      TEXT,
    error       TEXT
);

CREATE TABLE cover_requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id      TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    institution_id TEXT NOT NULL,
    data           TEXT NOT NULL,   -- CoverRequest
    status         TEXT NOT NULL CHECK (status IN ('open', 'filled', 'escalated', 'cancelled')),
    filled_by      TEXT,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    escalate_at    TEXT NOT NULL
);
CREATE INDEX cover_requests_open ON cover_requests(status, escalate_at);

CREATE TABLE cover_offers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  INTEGER NOT NULL REFERENCES cover_requests(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'accepted', 'declined', 'taken', 'withdrawn')),
    offered_at  TEXT,
    answered_at TEXT,
    UNIQUE (request_id, staff_id)
);
-- At most one acceptance per request, whatever races.
CREATE UNIQUE INDEX cover_one_acceptance ON cover_offers(request_id) WHERE status = 'accepted';

CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
