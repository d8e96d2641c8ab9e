-- Captures queued by an EventSub event (a stream going live or offline, a raid) are told apart
-- from the schedule's (docs/live.md): `event`.
ALTER TABLE captures DROP CONSTRAINT chk_captures_trigger;
ALTER TABLE captures ADD CONSTRAINT chk_captures_trigger CHECK (capture_trigger IN ('manual', 'auto', 'event'));
