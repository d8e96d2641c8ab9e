-- What happened, for the user's activity page and for operators. session_id is the analysis
-- session's id, kept without a foreign key so entries survive the purge of the session.
CREATE TABLE audit_logs (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event       VARCHAR(64) CHARACTER SET ascii NOT NULL,
    user_id     BIGINT UNSIGNED NULL,
    session_id  BIGINT UNSIGNED NULL,
    details     LONGTEXT NULL,
    ip          VARCHAR(45) CHARACTER SET ascii NULL,
    created_at  DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY idx_audit_logs_user_id_created_at (user_id, created_at),
    KEY idx_audit_logs_created_at (created_at),
    CONSTRAINT fk_audit_logs_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
