-- Touban schema, SQLite. Never edit a released migration; add a new one.
--
-- Network objects keep their queryable keys in columns and the full domain
-- value as JSON in `data` (serde_json of the touban-domain type), so that a
-- new domain field needs no migration and a re-import can tell "unchanged"
-- by comparing one text value.

CREATE TABLE regions (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    data        TEXT NOT NULL,      -- Region
    settings    TEXT NOT NULL,      -- {weights, policy, travel}
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE municipalities (
    ord         INTEGER NOT NULL,   -- position in the network file
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (region_id, id)
);

CREATE TABLE institutions (
    ord         INTEGER NOT NULL,   -- position in the network file
    region_id       TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    municipality_id TEXT NOT NULL,
    data            TEXT NOT NULL,
    PRIMARY KEY (region_id, id),
    FOREIGN KEY (region_id, municipality_id) REFERENCES municipalities(region_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE staff (
    ord         INTEGER NOT NULL,   -- position in the network file
    region_id           TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id                  TEXT NOT NULL,
    name                TEXT NOT NULL,
    profession          TEXT NOT NULL,
    home_institution_id TEXT NOT NULL,
    email               TEXT NOT NULL,
    data                TEXT NOT NULL,
    PRIMARY KEY (region_id, id),
    FOREIGN KEY (region_id, home_institution_id) REFERENCES institutions(region_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX staff_email ON staff(email);

CREATE TABLE services (
    ord         INTEGER NOT NULL,   -- position in the network file
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    profession  TEXT NOT NULL,
    data        TEXT NOT NULL,      -- CoverageService, with its templates
    PRIMARY KEY (region_id, id)
);

CREATE TABLE attending_pairs (
    ord         INTEGER NOT NULL,   -- position in the network file
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    primary_id  TEXT NOT NULL,
    backup_id   TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (region_id, primary_id, backup_id)
);

CREATE TABLE absences (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    start_ts    INTEGER NOT NULL,   -- unix seconds, for overlap queries
    end_ts      INTEGER NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('file', 'reported')),
    data        TEXT NOT NULL,      -- Absence (keeps the original offsets)
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    CHECK (end_ts > start_ts)
);
CREATE INDEX absences_staff ON absences(region_id, staff_id, start_ts);

CREATE TABLE requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    date        TEXT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX requests_staff ON requests(region_id, staff_id, date);

CREATE TABLE rota_versions (
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    month       TEXT NOT NULL,      -- YYYY-MM
    version     INTEGER NOT NULL CHECK (version >= 1),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'superseded')),
    based_on    INTEGER,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    note        TEXT,
    PRIMARY KEY (region_id, month, version)
);
-- At most one published version per month.
CREATE UNIQUE INDEX rota_one_published ON rota_versions(region_id, month) WHERE status = 'published';

-- No foreign key to staff or services: a rota is history and must survive a
-- person leaving the network.
CREATE TABLE assignments (
    region_id   TEXT NOT NULL,
    month       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    service_id  TEXT NOT NULL,
    template_id TEXT NOT NULL,
    shift_date  TEXT NOT NULL,      -- YYYY-MM-DD, the local start date
    staff_id    TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('primary', 'backup')),
    PRIMARY KEY (region_id, month, version, service_id, template_id, shift_date, staff_id),
    FOREIGN KEY (region_id, month, version) REFERENCES rota_versions(region_id, month, version) ON DELETE CASCADE
);
CREATE INDEX assignments_staff ON assignments(region_id, staff_id, shift_date);

-- Who changed what and when: rota versions created, published, edited.
CREATE TABLE rota_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL,
    month       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX rota_changes_month ON rota_changes(region_id, month, id);

-- Imports of network files and reported absences.
CREATE TABLE network_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
