-- Pending OAuth logins: the `state` sent to Twitch (hashed), bound to the browser that started
-- the login (hash of a short-lived cookie). Deleted when used, so a state works once.
CREATE TABLE oauth_states (
    state_hash      BINARY(32) NOT NULL,
    browser_hash    BINARY(32) NOT NULL,
    return_to       VARCHAR(512) NULL,
    created_at      DATETIME(6) NOT NULL,
    expires_at      DATETIME(6) NOT NULL,
    PRIMARY KEY (state_hash),
    KEY idx_oauth_states_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
