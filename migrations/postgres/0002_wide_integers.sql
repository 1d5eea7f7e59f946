-- Counters and version numbers as BIGINT, the one integer type Touban's
-- code reads (SQLite's INTEGER is 64-bit; PostgreSQL's is 32-bit). No data
-- changes: every value that fitted still fits.
ALTER TABLE municipalities  ALTER COLUMN ord TYPE BIGINT;
ALTER TABLE institutions    ALTER COLUMN ord TYPE BIGINT;
ALTER TABLE staff           ALTER COLUMN ord TYPE BIGINT;
ALTER TABLE services        ALTER COLUMN ord TYPE BIGINT;
ALTER TABLE attending_pairs ALTER COLUMN ord TYPE BIGINT;
ALTER TABLE rota_versions   ALTER COLUMN version TYPE BIGINT, ALTER COLUMN based_on TYPE BIGINT;
ALTER TABLE assignments     ALTER COLUMN version TYPE BIGINT;
ALTER TABLE rota_changes    ALTER COLUMN version TYPE BIGINT;
ALTER TABLE audit_log       ALTER COLUMN status TYPE BIGINT;
ALTER TABLE cover_offers    ALTER COLUMN rank TYPE BIGINT;
ALTER TABLE outbox          ALTER COLUMN attempts TYPE BIGINT;
ALTER TABLE swaps           ALTER COLUMN base_version TYPE BIGINT, ALTER COLUMN result_version TYPE BIGINT;
