-- The rename ledger: one row per distinct (account, login, display name) ever observed.
-- A rename is a new row; the same login under a different account_id is a login reuse,
-- found through idx_account_names_login. Binary collation: a change of case is a change.
CREATE TABLE account_names (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    account_id      BIGINT UNSIGNED NOT NULL,
    login           VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    display_name    VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    first_seen_at   DATETIME(6) NOT NULL,
    last_seen_at    DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_account_names_account_id_login_display_name (account_id, login, display_name),
    KEY idx_account_names_login (login),
    CONSTRAINT fk_account_names_account_id FOREIGN KEY (account_id) REFERENCES twitch_accounts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
