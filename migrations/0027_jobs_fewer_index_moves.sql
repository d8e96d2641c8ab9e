-- Fewer secondary-index entries move when a job is claimed, heartbeats and completes
-- (docs/queue.md, "Indexes"). Every change of an indexed column deletes-marks the old entry
-- and inserts a new one: (status, locked_until) moved at the claim, at each heartbeat and at
-- completion, (status, finished_at) at the claim and at completion — four moves a job that
-- only the reaper and housekeeping read, every few seconds or minutes.
-- The reaper now reads `status = 'running'` through idx_jobs_claim (a worker's few running
-- jobs), and pruning reads finished_at alone, which is NULL until a job ends and so stays put
-- when it is claimed or heartbeats.
ALTER TABLE jobs
    DROP INDEX idx_jobs_status_locked_until,
    DROP INDEX idx_jobs_status_finished_at,
    ADD INDEX idx_jobs_finished_at (finished_at);
