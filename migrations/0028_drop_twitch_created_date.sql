-- twitch_created_date (a stored DATE derived from twitch_created_at, with an index) was meant
-- for creation histograms grouped in SQL; analysis builds them from the loaded accounts and no
-- query reads it. Every new account paid an index entry for it and every enrichment moved that
-- entry (docs/benchmarks.md, B3 and B4). Old binaries never read it: safe during an upgrade.
ALTER TABLE twitch_accounts
    DROP INDEX idx_twitch_accounts_twitch_created_date,
    DROP COLUMN twitch_created_date;
