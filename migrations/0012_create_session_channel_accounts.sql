-- Presence per channel of a session: serves the channel filter of every analysis query and
-- the "channels seen" count of session_accounts.
CREATE TABLE session_channel_accounts (
    session_channel_id      BIGINT UNSIGNED NOT NULL,
    account_id              BIGINT UNSIGNED NOT NULL,
    session_id              BIGINT UNSIGNED NOT NULL,
    first_seen_at           DATETIME(6) NOT NULL,
    last_seen_at            DATETIME(6) NOT NULL,
    captures_seen           INT UNSIGNED NOT NULL,
    captures_seen_offline   INT UNSIGNED NOT NULL,
    PRIMARY KEY (session_channel_id, account_id),
    KEY idx_session_channel_accounts_session_id_account_id (session_id, account_id),
    CONSTRAINT fk_session_channel_accounts_session_channel_id FOREIGN KEY (session_channel_id) REFERENCES session_channels (id) ON DELETE CASCADE,
    CONSTRAINT fk_session_channel_accounts_session_id FOREIGN KEY (session_id) REFERENCES analysis_sessions (id) ON DELETE CASCADE,
    CONSTRAINT fk_session_channel_accounts_account_id FOREIGN KEY (account_id) REFERENCES twitch_accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;
