-- Presence of each account across a session, maintained in the capture's transaction so that
-- session-level aggregates never scan capture_chatters.
CREATE TABLE session_accounts (
    session_id              BIGINT UNSIGNED NOT NULL,
    account_id              BIGINT UNSIGNED NOT NULL,
    first_seen_at           DATETIME(6) NOT NULL,
    last_seen_at            DATETIME(6) NOT NULL,
    captures_seen           INT UNSIGNED NOT NULL,
    captures_seen_offline   INT UNSIGNED NOT NULL,
    channels_seen           SMALLINT UNSIGNED NOT NULL,
    PRIMARY KEY (session_id, account_id),
    KEY idx_session_accounts_account_id (account_id),
    CONSTRAINT fk_session_accounts_session_id FOREIGN KEY (session_id) REFERENCES analysis_sessions (id) ON DELETE CASCADE,
    CONSTRAINT fk_session_accounts_account_id FOREIGN KEY (account_id) REFERENCES twitch_accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;
