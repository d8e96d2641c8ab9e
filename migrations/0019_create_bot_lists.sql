-- Bot lists a moderator imported (one login or id a line, or CSV), with their provenance: a
-- match is a reason worth `points` in the score, never a flag on its own. Deleting a list
-- deletes its entries (and so its reasons). Entries are ids or logins as written in the file;
-- a login matches any name an account ever held (the rename ledger).
CREATE TABLE bot_lists (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id         BIGINT UNSIGNED NOT NULL,
    name            VARCHAR(100) NOT NULL,
    points          SMALLINT UNSIGNED NOT NULL,
    entries         INT UNSIGNED NOT NULL,
    imported_at     DATETIME(6) NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_bot_lists_user_id_name (user_id, name),
    CONSTRAINT chk_bot_lists_points CHECK (points <= 100),
    CONSTRAINT fk_bot_lists_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE bot_list_entries (
    list_id         BIGINT UNSIGNED NOT NULL,
    kind            VARCHAR(8) CHARACTER SET ascii NOT NULL,
    value           VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (list_id, kind, value),
    KEY idx_bot_list_entries_kind_value (kind, value),
    CONSTRAINT chk_bot_list_entries_kind CHECK (kind IN ('id', 'login')),
    CONSTRAINT fk_bot_list_entries_list_id FOREIGN KEY (list_id) REFERENCES bot_lists (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
