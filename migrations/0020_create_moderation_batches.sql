-- Bulk bans, timeouts and unbans (docs/moderation.md). A batch is previewed first ('draft':
-- its items are exactly who would be acted on, and who is left out and why), confirmed by
-- typing its count ('running': one job per chunk of items), and ends 'done' or 'stopped'
-- (the moderator is no longer a moderator, the scope was withdrawn…: stopped_reason is a
-- message key). An undo is another batch (undo_of) that unbans what this one banned.
CREATE TABLE moderation_batches (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    public_id           CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id             BIGINT UNSIGNED NOT NULL,
    session_id          BIGINT UNSIGNED NOT NULL,
    broadcaster_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    broadcaster_login   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    action              VARCHAR(16) CHARACTER SET ascii NOT NULL,
    duration_secs       INT UNSIGNED NULL,
    reason              VARCHAR(500) NOT NULL DEFAULT '',
    selection           VARCHAR(255) NOT NULL,
    status              VARCHAR(16) CHARACTER SET ascii NOT NULL,
    stopped_reason      VARCHAR(64) CHARACTER SET ascii NULL,
    undo_of             BIGINT UNSIGNED NULL,
    targets             INT UNSIGNED NOT NULL,
    created_at          DATETIME(6) NOT NULL,
    confirmed_at        DATETIME(6) NULL,
    finished_at         DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_moderation_batches_public_id (public_id),
    KEY idx_moderation_batches_session_id (session_id),
    KEY idx_moderation_batches_broadcaster_id (broadcaster_id),
    KEY idx_moderation_batches_status_created_at (status, created_at),
    CONSTRAINT chk_moderation_batches_action CHECK (action IN ('ban', 'timeout', 'unban')),
    CONSTRAINT chk_moderation_batches_status CHECK (status IN ('draft', 'running', 'done', 'stopped')),
    CONSTRAINT fk_moderation_batches_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per account of a batch: a target ('pending' until acted on, then 'done',
-- 'already' — already banned on a ban, not banned on an unban, both count as done — or
-- 'refused' with Twitch's words), 'skipped' when the batch stopped first, or an account left
-- out at the preview ('excluded', with `excluded_why`: trusted, broadcaster, moderator,
-- already_banned, not_in_channel). The primary key makes an account appear once per batch.
CREATE TABLE moderation_items (
    batch_id            BIGINT UNSIGNED NOT NULL,
    twitch_user_id      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    login               VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    chunk               INT UNSIGNED NOT NULL,
    status              VARCHAR(16) CHARACTER SET ascii NOT NULL,
    excluded_why        VARCHAR(32) CHARACTER SET ascii NULL,
    message             VARCHAR(500) NULL,
    acted_at            DATETIME(6) NULL,
    PRIMARY KEY (batch_id, twitch_user_id),
    KEY idx_moderation_items_batch_id_chunk_status (batch_id, chunk, status),
    KEY idx_moderation_items_twitch_user_id (twitch_user_id),
    CONSTRAINT chk_moderation_items_status CHECK (status IN ('pending', 'done', 'already', 'refused', 'skipped', 'excluded')),
    CONSTRAINT fk_moderation_items_batch_id FOREIGN KEY (batch_id) REFERENCES moderation_batches (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
