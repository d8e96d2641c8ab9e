-- The language a user chose with the header's switch (`en`, `fr`); NULL: none chosen, the
-- browser's Accept-Language decides. Restored into the language cookie at each login, so the
-- choice follows the user to a new browser (docs/i18n.md).
ALTER TABLE users ADD COLUMN locale VARCHAR(8) CHARACTER SET ascii NULL AFTER avatar_url;
