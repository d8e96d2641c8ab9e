-- App users: the moderators and streamers who log in with Twitch.
CREATE TABLE users (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    twitch_user_id  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    login           VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    display_name    VARCHAR(128) NOT NULL,
    avatar_url      VARCHAR(512) NULL,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    last_login_at   DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_twitch_user_id (twitch_user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
