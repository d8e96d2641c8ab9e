-- The channels whose stream.online, stream.offline and channel.raid subscriptions exist at
-- Twitch after the last EventSub reconciliation (docs/live.md): the channels page says such a
-- channel follows Twitch's live updates; any other auto-captured channel is polled.
CREATE TABLE eventsub_channels (
    broadcaster_id  VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subscribed_at   DATETIME(6) NOT NULL,
    PRIMARY KEY (broadcaster_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
