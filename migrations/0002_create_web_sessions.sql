-- Browser sessions. Only the SHA-256 of the cookie token is stored, never the token itself.
-- expires_at slides with activity; absolute_expires_at caps it.
CREATE TABLE web_sessions (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    token_hash          BINARY(32) NOT NULL,
    user_id             BIGINT UNSIGNED NOT NULL,
    csrf_secret         BINARY(32) NOT NULL,
    user_agent          VARCHAR(255) NULL,
    ip                  VARCHAR(45) CHARACTER SET ascii NULL,
    created_at          DATETIME(6) NOT NULL,
    last_seen_at        DATETIME(6) NOT NULL,
    expires_at          DATETIME(6) NOT NULL,
    absolute_expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_web_sessions_token_hash (token_hash),
    KEY idx_web_sessions_user_id (user_id),
    KEY idx_web_sessions_expires_at (expires_at),
    CONSTRAINT fk_web_sessions_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
