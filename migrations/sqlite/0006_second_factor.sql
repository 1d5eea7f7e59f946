-- The web app's second factor (TOTP, RFC 6238): one per address. A factor
-- is set up unconfirmed and confirmed by a first right code; `last_step`
-- is the newest time step used, so that no code works twice. A session
-- records when it passed the second factor its sign-in needed.
CREATE TABLE web_second_factors (
    email         TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    confirmed_at  TEXT,
    last_step     INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE web_sessions ADD COLUMN verified_at TEXT;
