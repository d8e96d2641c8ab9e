-- Whether the channel is live, as EventSub last said (stream.online / stream.offline) and
-- when Twitch sent that (docs/live.md). NULL: no event yet — auto-capture asks Get Streams at
-- each slot (polling). Known offline: the schedule stops until stream.online starts it again.
-- The time makes events applied out of order harmless: an older one changes nothing.
ALTER TABLE session_channels
    ADD COLUMN stream_live BOOLEAN NULL AFTER auto_capture_stopped_reason,
    ADD COLUMN stream_live_at DATETIME(6) NULL AFTER stream_live;
