-- The broadcasters an analysis session covers, with their auto-capture settings.
CREATE TABLE session_channels (
    id                          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    session_id                  BIGINT UNSIGNED NOT NULL,
    broadcaster_id              VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    broadcaster_login           VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    broadcaster_name            VARCHAR(128) NOT NULL,
    auto_capture_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    auto_capture_interval_min   SMALLINT UNSIGNED NOT NULL DEFAULT 5,
    auto_capture_only_live      BOOLEAN NOT NULL DEFAULT TRUE,
    auto_capture_stopped_at     DATETIME(6) NULL,
    auto_capture_stopped_reason VARCHAR(255) NULL,
    created_at                  DATETIME(6) NOT NULL,
    updated_at                  DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_session_channels_session_id_broadcaster_id (session_id, broadcaster_id),
    CONSTRAINT chk_session_channels_interval CHECK (auto_capture_interval_min >= 1),
    CONSTRAINT fk_session_channels_session_id FOREIGN KEY (session_id) REFERENCES analysis_sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
