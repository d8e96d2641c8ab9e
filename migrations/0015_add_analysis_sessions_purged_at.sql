-- When housekeeping finished deleting an expired or deleted session's captured data. The row
-- itself stays (expired sessions are listed) until a deleted session is removed outright.
ALTER TABLE analysis_sessions ADD COLUMN purged_at DATETIME(6) NULL AFTER ended_at;
