-- Presence per channel (`session_channel_accounts`) repeats `session_accounts` row for row while
-- a session has captures of one channel only — most sessions: a 100k-chatter capture wrote the
-- same 100k rows twice (docs/benchmarks.md, B3). The worker now writes it only once a second
-- channel is captured, and then first fills it for the earlier channel from
-- `session_accounts` (docs/worker.md). Until then readers take `session_accounts` as the
-- presence of `presence_channel_id`, the session's one captured channel (NULL: nothing
-- captured yet). Every session before this migration already has its per-channel rows.
ALTER TABLE analysis_sessions
    ADD COLUMN presence_per_channel BOOLEAN NOT NULL DEFAULT TRUE,
    ADD COLUMN presence_channel_id BIGINT UNSIGNED NULL;
ALTER TABLE analysis_sessions ALTER COLUMN presence_per_channel SET DEFAULT FALSE;
