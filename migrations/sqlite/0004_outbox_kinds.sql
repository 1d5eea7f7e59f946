-- Message kinds are checked where they are made (MessageKind in
-- crates/store/src/outbox.rs); the table only insists on a plain name, so
-- that a new kind (repair_pending, …) needs no table rebuild again.
CREATE TABLE outbox_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind <> '' AND kind NOT GLOB '*[^a-z_]*'),
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
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, due_at);
CREATE INDEX outbox_merge ON outbox(merge_key) WHERE state = 'queued';
CREATE INDEX outbox_region ON outbox(region_id, id);
