-- Swaps and give-aways of duties between two staff members: proposed,
-- accepted or declined, approved (a new published version) or refused, or
-- withdrawn when the duties changed meanwhile.
CREATE TABLE swaps (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id      TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    month          TEXT NOT NULL,
    from_staff     TEXT NOT NULL,
    give           TEXT NOT NULL,   -- ShiftKey (JSON)
    to_staff       TEXT NOT NULL,
    take           TEXT,            -- ShiftKey (JSON); NULL: a give-away
    base_version   INTEGER NOT NULL,
    note           TEXT,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'approved', 'declined', 'refused', 'withdrawn')),
    reason         TEXT,
    result_version INTEGER,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    answered_at    TEXT,
    decided_at     TEXT,
    decided_by     TEXT
);
CREATE INDEX swaps_region ON swaps(region_id, id);
-- A duty is offered in one open proposal at a time.
CREATE UNIQUE INDEX swaps_one_open ON swaps(region_id, from_staff, give)
    WHERE status IN ('proposed', 'accepted');
