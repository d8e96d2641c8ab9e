-- Raids into channels (EventSub channel.raid, docs/live.md): the raiding channel, the viewers
-- it announced, and when Twitch sent it. A session holding the channel shows the raid on its
-- timeline, and the raid's forensics read the first capture queued after it. One row per
-- EventSub message (Twitch may resend).
CREATE TABLE raids (
    id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    message_id              VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    broadcaster_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    from_broadcaster_id     VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    from_login              VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    from_name               VARCHAR(128) NOT NULL,
    viewers                 INT UNSIGNED NOT NULL,
    raided_at               DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_raids_message_id (message_id),
    KEY idx_raids_broadcaster_id_raided_at (broadcaster_id, raided_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
