-- What a moderator notes about a Twitch account: a label (trusted, bot, watch) and a free-text
-- note, keyed by the Twitch user id so that they survive renames (docs/moderation.md). One
-- row per (moderator, account). shared_channel_id shares the mark with the other users of the
-- product who analyse that channel; NULL keeps it to its author. origin 'common_bot' marks
-- the chat bots trusted for every new user (Nightbot, StreamElements…), editable like any.
CREATE TABLE account_marks (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id             BIGINT UNSIGNED NOT NULL,
    twitch_user_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    login_when_marked   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    label               VARCHAR(16) CHARACTER SET ascii NULL,
    note                VARCHAR(1000) NOT NULL DEFAULT '',
    shared_channel_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
    origin              VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT 'moderator',
    created_at          DATETIME(6) NOT NULL,
    updated_at          DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_account_marks_user_id_twitch_user_id (user_id, twitch_user_id),
    KEY idx_account_marks_shared_channel_id (shared_channel_id),
    KEY idx_account_marks_twitch_user_id (twitch_user_id),
    CONSTRAINT chk_account_marks_label CHECK (label IS NULL OR label IN ('trusted', 'bot', 'watch')),
    CONSTRAINT chk_account_marks_origin CHECK (origin IN ('moderator', 'common_bot')),
    CONSTRAINT fk_account_marks_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- When each user's common chat bots were marked trusted (NULL: not yet; the worker does it
-- after the first login, resolving the bots' ids through twitch-api).
ALTER TABLE users ADD COLUMN common_bots_trusted_at DATETIME(6) NULL AFTER locale;
