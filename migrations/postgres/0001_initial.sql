-- Touban schema, PostgreSQL: the SQLite schema of migrations/sqlite/0001–0009
-- in one step, in PostgreSQL's own types (identity keys, timestamptz, date,
-- jsonb, bytea). Never edit a released migration; add a new one.
--
-- Network objects keep their queryable keys in columns and the full domain
-- value as JSON in `data` (serde_json of the touban-domain type), so that a
-- new domain field needs no migration and a re-import can tell "unchanged"
-- by comparing one value.

CREATE TABLE regions (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    data        JSONB NOT NULL,     -- Region
    settings    JSONB NOT NULL,     -- {weights, policy, travel}
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE municipalities (
    ord         INTEGER NOT NULL,   -- position in the network file
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    data        JSONB NOT NULL,
    PRIMARY KEY (region_id, id)
);

CREATE TABLE institutions (
    ord             INTEGER NOT NULL,
    region_id       TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    municipality_id TEXT NOT NULL,
    data            JSONB NOT NULL,
    PRIMARY KEY (region_id, id),
    FOREIGN KEY (region_id, municipality_id) REFERENCES municipalities(region_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE staff (
    ord                 INTEGER NOT NULL,
    region_id           TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id                  TEXT NOT NULL,
    name                TEXT NOT NULL,
    profession          TEXT NOT NULL,
    home_institution_id TEXT NOT NULL,
    email               TEXT NOT NULL,
    data                JSONB NOT NULL,
    PRIMARY KEY (region_id, id),
    FOREIGN KEY (region_id, home_institution_id) REFERENCES institutions(region_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX staff_email ON staff(email);

CREATE TABLE services (
    ord         INTEGER NOT NULL,
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    profession  TEXT NOT NULL,
    data        JSONB NOT NULL,     -- CoverageService, with its templates
    PRIMARY KEY (region_id, id)
);

CREATE TABLE attending_pairs (
    ord         INTEGER NOT NULL,
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    primary_id  TEXT NOT NULL,
    backup_id   TEXT NOT NULL,
    data        JSONB NOT NULL,
    PRIMARY KEY (region_id, primary_id, backup_id)
);

CREATE TABLE absences (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    start_at    TIMESTAMPTZ NOT NULL,
    end_at      TIMESTAMPTZ NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('file', 'reported')),
    data        JSONB NOT NULL,     -- Absence (keeps the original offsets)
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    CHECK (end_at > start_at)
);
CREATE INDEX absences_staff ON absences(region_id, staff_id, start_at);

CREATE TABLE requests (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    date        DATE NOT NULL,
    data        JSONB NOT NULL,
    source      TEXT NOT NULL DEFAULT 'file' CHECK (source IN ('file', 'reported')),
    created_by  TEXT
);
CREATE INDEX requests_staff ON requests(region_id, staff_id, date);

CREATE TABLE rota_versions (
    region_id   TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    month       TEXT NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    version     INTEGER NOT NULL CHECK (version >= 1),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'superseded')),
    based_on    INTEGER,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    note        TEXT,
    PRIMARY KEY (region_id, month, version)
);
-- At most one published version per month, whatever races.
CREATE UNIQUE INDEX rota_one_published ON rota_versions(region_id, month) WHERE status = 'published';

-- No foreign key to staff or services: a rota is history and must survive a
-- person leaving the network.
CREATE TABLE assignments (
    region_id   TEXT NOT NULL,
    month       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    service_id  TEXT NOT NULL,
    template_id TEXT NOT NULL,
    shift_date  DATE NOT NULL,      -- the local start date
    staff_id    TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('primary', 'backup')),
    PRIMARY KEY (region_id, month, version, service_id, template_id, shift_date, staff_id),
    FOREIGN KEY (region_id, month, version) REFERENCES rota_versions(region_id, month, version) ON DELETE CASCADE
);
CREATE INDEX assignments_staff ON assignments(region_id, staff_id, shift_date);

CREATE TABLE rota_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   TEXT NOT NULL,
    month       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX rota_changes_month ON rota_changes(region_id, month, id);

CREATE TABLE network_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);

-- API tokens and calendar-feed tokens: only an argon2 hash of the secret.
CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL,
    region_id   TEXT,
    grant_data  JSONB NOT NULL,     -- Grant
    label       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX credentials_region ON credentials(region_id);

-- Append-only: the database itself refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
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
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'raise_exception';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE jobs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    month       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    deadline    TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    result      JSONB,
    error       TEXT
);

CREATE TABLE cover_requests (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id      TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    institution_id TEXT NOT NULL,
    data           JSONB NOT NULL,  -- CoverRequest
    status         TEXT NOT NULL CHECK (status IN ('open', 'filled', 'escalated', 'cancelled')),
    filled_by      TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL,
    escalate_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX cover_requests_open ON cover_requests(status, escalate_at);

CREATE TABLE cover_offers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES cover_requests(id) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'accepted', 'declined', 'taken', 'withdrawn')),
    offered_at  TIMESTAMPTZ,
    answered_at TIMESTAMPTZ,
    UNIQUE (request_id, staff_id)
);
-- At most one acceptance per request, whatever races.
CREATE UNIQUE INDEX cover_one_acceptance ON cover_offers(request_id) WHERE status = 'accepted';

CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- The notification outbox: one row per e-mail, written in the same
-- transaction as the change it tells of (crates/store/src/outbox.rs).
-- Kinds are checked where they are made; the table insists on a plain name.
CREATE TABLE outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    staff_id    TEXT,               -- NULL: to the region's coordinators
    payload     JSONB NOT NULL,     -- ids only; rendered when sent
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    dedupe_key  TEXT UNIQUE,
    merge_key   TEXT,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    last_error  TEXT,
    sent_at     TIMESTAMPTZ,
    sent_to     TEXT
);
CREATE INDEX outbox_due ON outbox(state, due_at);
CREATE INDEX outbox_merge ON outbox(merge_key) WHERE state = 'queued';
CREATE INDEX outbox_region ON outbox(region_id, id);

-- The web app: one-time sign-in links (the secret is an HMAC of the id, not
-- stored), sessions by the SHA-256 of the cookie, second factors, admins.
CREATE TABLE web_logins (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    address     TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX web_logins_email ON web_logins(email, created_at);
CREATE INDEX web_logins_address ON web_logins(address, created_at);

CREATE TABLE web_sessions (
    id_hash      TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    grant_json   JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ,
    verified_at  TIMESTAMPTZ
);
CREATE INDEX web_sessions_email ON web_sessions(email);

CREATE TABLE web_second_factors (
    email         TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE web_admins (
    email       TEXT PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL
);

-- Swaps and give-aways of duties between two staff members.
CREATE TABLE swaps (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id      TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    month          TEXT NOT NULL,
    from_staff     TEXT NOT NULL,
    give           JSONB NOT NULL,  -- ShiftKey
    to_staff       TEXT NOT NULL,
    take           JSONB,           -- ShiftKey; NULL: a give-away
    base_version   INTEGER NOT NULL,
    note           TEXT,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'approved', 'declined', 'refused', 'withdrawn')),
    reason         TEXT,
    result_version INTEGER,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL,
    answered_at    TIMESTAMPTZ,
    decided_at     TIMESTAMPTZ,
    decided_by     TEXT
);
CREATE INDEX swaps_region ON swaps(region_id, id);
-- A duty is offered in one open proposal at a time.
CREATE UNIQUE INDEX swaps_one_open ON swaps(region_id, from_staff, give)
    WHERE status IN ('proposed', 'accepted');
