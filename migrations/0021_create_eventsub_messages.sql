-- EventSub messages received (docs/live.md): Twitch delivers at least once, resending a
-- message with the same id; the callback records each id once, in the transaction that hands
-- the event to the queue, so an event is processed once however often it arrives. Rows older
-- than a day are pruned by housekeeping (Twitch's replay window is 10 minutes).
CREATE TABLE eventsub_messages (
    message_id          VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    message_type        VARCHAR(40) CHARACTER SET ascii NOT NULL,
    subscription_type   VARCHAR(64) CHARACTER SET ascii NOT NULL,
    received_at         DATETIME(6) NOT NULL,
    PRIMARY KEY (message_id),
    KEY idx_eventsub_messages_received_at (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
