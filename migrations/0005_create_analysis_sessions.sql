-- Analysis sessions. "At most one active session per user" is enforced by the database:
-- active_user_id is generated as user_id while status = 'active' and NULL otherwise, and a
-- unique key admits any number of NULLs but each user id once.
CREATE TABLE analysis_sessions (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    public_id           CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id             BIGINT UNSIGNED NOT NULL,
    name                VARCHAR(100) NOT NULL,
    status              VARCHAR(16) CHARACTER SET ascii NOT NULL,
    active_user_id      BIGINT UNSIGNED AS (CASE WHEN status = 'active' THEN user_id END) STORED,
    created_at          DATETIME(6) NOT NULL,
    updated_at          DATETIME(6) NOT NULL,
    last_activity_at    DATETIME(6) NOT NULL,
    expires_at          DATETIME(6) NULL,
    saved_at            DATETIME(6) NULL,
    ended_at            DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_analysis_sessions_public_id (public_id),
    UNIQUE KEY uq_analysis_sessions_active_user_id (active_user_id),
    KEY idx_analysis_sessions_user_id_status (user_id, status),
    KEY idx_analysis_sessions_status_expires_at (status, expires_at),
    CONSTRAINT chk_analysis_sessions_status CHECK (status IN ('active', 'saved', 'expired', 'deleted')),
    CONSTRAINT fk_analysis_sessions_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
