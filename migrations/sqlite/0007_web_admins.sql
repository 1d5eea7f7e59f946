-- Admins of the web app, created with `touban admin add`: they sign in by
-- e-mail link like coordinators and may work in every region.
CREATE TABLE web_admins (
    email       TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
