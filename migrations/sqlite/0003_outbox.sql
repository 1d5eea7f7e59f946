-- The notification outbox: one row per e-mail to send, written in the same
-- transaction as the change it tells of. See crates/store/src/outbox.rs.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('published', 'changed', 'offer', 'offer_taken',
                                              'escalation', 'reminder', 'digest', 'delivery_failed')),
    staff_id    TEXT,              -- NULL: to the region's coordinators
    payload     TEXT NOT NULL,     -- JSON, ids only; rendered when sent
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    dedupe_key  TEXT UNIQUE,
    merge_key   TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    last_error  TEXT,
    sent_at     TEXT,
    sent_to     TEXT
);
-- What workers scan: rows waiting for a send, by due time.
CREATE INDEX outbox_due ON outbox(state, due_at);
CREATE INDEX outbox_merge ON outbox(merge_key) WHERE state = 'queued';
CREATE INDEX outbox_region ON outbox(region_id, id);
