-- The job queue (docs/queue.md). idx_jobs_claim is in exactly the claim's ORDER BY, so the
-- claim reads the index in order and stops after LIMIT rows: no filesort, no scan.
-- dedupe_pending carries dedupe_key while the job is queued or running and NULL once it has
-- finished, so the unique key admits one unfinished job per (kind, dedupe key).
CREATE TABLE jobs (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kind            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    payload         LONGTEXT NOT NULL,
    status          VARCHAR(16) CHARACTER SET ascii NOT NULL,
    priority        SMALLINT NOT NULL DEFAULT 0,
    run_at          DATETIME(6) NOT NULL,
    attempts        INT UNSIGNED NOT NULL DEFAULT 0,
    max_attempts    INT UNSIGNED NOT NULL,
    locked_by       VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
    locked_until    DATETIME(6) NULL,
    last_error      TEXT NULL,
    dedupe_key      VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NULL,
    dedupe_pending  VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin
                    AS (CASE WHEN status IN ('queued', 'running') THEN dedupe_key END) STORED,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    finished_at     DATETIME(6) NULL,
    PRIMARY KEY (id),
    KEY idx_jobs_claim (status, priority DESC, run_at, id),
    KEY idx_jobs_status_locked_until (status, locked_until),
    KEY idx_jobs_status_finished_at (status, finished_at),
    UNIQUE KEY uq_jobs_kind_dedupe_pending (kind, dedupe_pending),
    CONSTRAINT chk_jobs_status CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    CONSTRAINT chk_jobs_max_attempts CHECK (max_attempts >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
