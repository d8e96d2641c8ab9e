-- Every Twitch account ever seen in a capture. Enrichment (Get Users) fills the profile columns;
-- missing_since is set when Twitch stops returning the account (suspended or deleted).
-- twitch_created_date is derived and stored so that grouping by creation day uses an index.
CREATE TABLE twitch_accounts (
    id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    twitch_user_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    login                   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    display_name            VARCHAR(128) NOT NULL,
    twitch_created_at       DATETIME(6) NULL,
    twitch_created_date     DATE AS (CAST(twitch_created_at AS DATE)) STORED,
    account_type            VARCHAR(16) CHARACTER SET ascii NULL,
    broadcaster_type        VARCHAR(16) CHARACTER SET ascii NULL,
    description_empty       BOOLEAN NULL,
    default_avatar          BOOLEAN NULL,
    profile_image_url       VARCHAR(512) NULL,
    first_seen_at           DATETIME(6) NOT NULL,
    last_seen_at            DATETIME(6) NOT NULL,
    enriched_at             DATETIME(6) NULL,
    missing_since           DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_twitch_accounts_twitch_user_id (twitch_user_id),
    KEY idx_twitch_accounts_login (login),
    KEY idx_twitch_accounts_enriched_at (enriched_at),
    KEY idx_twitch_accounts_twitch_created_date (twitch_created_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
