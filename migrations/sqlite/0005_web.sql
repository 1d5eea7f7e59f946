-- The web app's sign-in: one-time e-mail links and server-side sessions.
-- A link's secret is not stored (it is an HMAC of the id under a server
-- key); a session is stored by the SHA-256 of its cookie value only.
CREATE TABLE web_logins (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    address     TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX web_logins_email ON web_logins(email, created_at);
CREATE INDEX web_logins_address ON web_logins(address, created_at);

CREATE TABLE web_sessions (
    id_hash         TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    grant_json      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    ended_at        TEXT
);
CREATE INDEX web_sessions_email ON web_sessions(email);
