-- Requests entered by staff in the web app (or through the API) are kept
-- through imports of the network file, as reported absences are.
ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT 'file';
ALTER TABLE requests ADD COLUMN created_by TEXT;
