-- Who was present in a capture: 16 bytes a row. The primary key makes a retried capture
-- unable to store a chatter twice.
CREATE TABLE capture_chatters (
    capture_id  BIGINT UNSIGNED NOT NULL,
    account_id  BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (capture_id, account_id),
    KEY idx_capture_chatters_account_id (account_id),
    CONSTRAINT fk_capture_chatters_capture_id FOREIGN KEY (capture_id) REFERENCES captures (id) ON DELETE CASCADE,
    CONSTRAINT fk_capture_chatters_account_id FOREIGN KEY (account_id) REFERENCES twitch_accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB;
