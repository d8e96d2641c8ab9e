-- How many names (distinct login + display name rows of account_names) an account has had:
-- the rename count analysis needs for every account of a session, kept here so that loading
-- 200k accounts does not probe the ledger 200k times. New accounts start with their one
-- name; the worker recounts the ledger whenever it records a rename (same transaction).
ALTER TABLE twitch_accounts ADD COLUMN names_count INT UNSIGNED NOT NULL DEFAULT 1 AFTER display_name;

UPDATE twitch_accounts a
JOIN (SELECT account_id, COUNT(*) AS names FROM account_names GROUP BY account_id) n ON n.account_id = a.id
SET a.names_count = n.names
WHERE a.names_count <> n.names;
