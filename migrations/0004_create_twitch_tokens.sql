-- Owned by twitch-api alone. Access and refresh tokens are sealed with an AEAD cipher
-- (key TOKEN_ENCRYPTION_KEY); no column ever holds a token in plaintext.
CREATE TABLE twitch_tokens (
    twitch_user_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    access_token_sealed     VARBINARY(1024) NOT NULL,
    refresh_token_sealed    VARBINARY(1024) NULL,
    scopes                  VARCHAR(1024) CHARACTER SET ascii NOT NULL,
    expires_at              DATETIME(6) NULL,
    validated_at            DATETIME(6) NULL,
    invalid_since           DATETIME(6) NULL,
    invalid_reason          VARCHAR(255) NULL,
    created_at              DATETIME(6) NOT NULL,
    updated_at              DATETIME(6) NOT NULL,
    PRIMARY KEY (twitch_user_id),
    KEY idx_twitch_tokens_validated_at (validated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
