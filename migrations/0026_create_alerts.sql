-- Outbound alerts (docs/live.md): a moderator's webhooks for one channel, each with its own
-- thresholds; the alerts raised for them; and which accounts each webhook was already told
-- about as part of a bot cohort, so that a cohort is alerted once however often it is seen.

-- One destination and its rule. The URL is a secret (a Discord webhook URL lets anyone post
-- to the channel): sealed with ALERT_ENCRYPTION_KEY, bound to the row's id; `url_hint` is the
-- masked form the page shows; `locale` the language its alerts are written in (the page's when
-- it was added); `young_share_pct` 0 means that rule is off. `last_*`: the latest delivery.
CREATE TABLE alert_webhooks (
    id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    user_id                 BIGINT UNSIGNED NOT NULL,
    broadcaster_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    broadcaster_login       VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    kind                    VARCHAR(16) CHARACTER SET ascii NOT NULL,
    url_sealed              VARBINARY(2300) NULL,
    url_hint                VARCHAR(200) NOT NULL,
    min_cohort              INT UNSIGNED NOT NULL,
    young_share_pct         TINYINT UNSIGNED NOT NULL,
    locale                  VARCHAR(8) CHARACTER SET ascii NOT NULL,
    last_status             VARCHAR(16) CHARACTER SET ascii NULL,
    last_error              VARCHAR(255) NULL,
    last_at                 DATETIME(6) NULL,
    created_at              DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY idx_alert_webhooks_user_id_broadcaster_id (user_id, broadcaster_id),
    CONSTRAINT chk_alert_webhooks_kind CHECK (kind IN ('discord', 'json')),
    CONSTRAINT chk_alert_webhooks_young CHECK (young_share_pct <= 100),
    CONSTRAINT fk_alert_webhooks_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One alert for one webhook: what a capture found (`findings`, JSON, in no language: the
-- text is written at delivery in the owner's language), or a test; `young_share` when the
-- young newcomers' share was part of it. One per (webhook, capture):
-- a check run twice raises nothing twice. Delivered by an `alert_delivery` job.
CREATE TABLE alerts (
    id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    webhook_id              BIGINT UNSIGNED NOT NULL,
    capture_id              BIGINT UNSIGNED NULL,
    session_id              BIGINT UNSIGNED NULL,
    findings                MEDIUMTEXT NOT NULL,
    young_share             BOOLEAN NOT NULL DEFAULT FALSE,
    status                  VARCHAR(16) CHARACTER SET ascii NOT NULL,
    attempts                INT UNSIGNED NOT NULL DEFAULT 0,
    last_error              VARCHAR(255) NULL,
    created_at              DATETIME(6) NOT NULL,
    sent_at                 DATETIME(6) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_alerts_webhook_id_capture_id (webhook_id, capture_id),
    CONSTRAINT chk_alerts_status CHECK (status IN ('pending', 'sent', 'failed')),
    CONSTRAINT fk_alerts_webhook_id FOREIGN KEY (webhook_id) REFERENCES alert_webhooks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The accounts a webhook was told about as members of a bot cohort: a cohort sharing any
-- of them is not new.
CREATE TABLE alert_cohort_accounts (
    webhook_id              BIGINT UNSIGNED NOT NULL,
    account_id              BIGINT UNSIGNED NOT NULL,
    alert_id                BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (webhook_id, account_id),
    CONSTRAINT fk_alert_cohort_accounts_webhook_id FOREIGN KEY (webhook_id) REFERENCES alert_webhooks (id) ON DELETE CASCADE
) ENGINE=InnoDB;
