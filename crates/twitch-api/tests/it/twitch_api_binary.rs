use sqlx::MySqlPool;
use tca_common::testing::{
    assert_binary_refuses_config, assert_binary_serves_and_stops_cleanly, database_url_of,
};

use crate::twitch_api_support::{INTERNAL_TOKEN, SEAL_KEY};

const BINARY: &str = env!("CARGO_BIN_EXE_twitch-api");

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    assert_binary_serves_and_stops_cleanly(
        BINARY,
        "TWITCH_API_ADDR",
        &[
            ("DATABASE_URL", &url),
            ("INTERNAL_API_TOKEN", INTERNAL_TOKEN),
            ("TOKEN_ENCRYPTION_KEY", SEAL_KEY),
            ("TWITCH_CLIENT_ID", "client"),
            ("TWITCH_CLIENT_SECRET", "secret"),
            ("TWITCH_AUTH_URL", "http://127.0.0.1:1"),
            ("TWITCH_HELIX_URL", "http://127.0.0.1:1/helix"),
        ],
    )
    .await;
}

#[test]
fn binary_without_its_secrets_exits_non_zero_naming_each() {
    assert_binary_refuses_config(
        BINARY,
        &[
            ("TWITCH_API_ADDR", "not-an-address"),
            ("LOG_FORMAT", "xml"),
            ("INTERNAL_API_TOKEN", "short"),
        ],
        &[
            "DATABASE_URL is missing",
            "TWITCH_API_ADDR is not a socket address like 127.0.0.1:8080: 'not-an-address'",
            "LOG_FORMAT must be one of json, pretty: 'xml'",
            "INTERNAL_API_TOKEN must be at least 32 characters",
            "TOKEN_ENCRYPTION_KEY is missing",
            "TWITCH_CLIENT_ID is missing",
            "TWITCH_CLIENT_SECRET is missing",
        ],
    );
}

#[test]
fn a_malformed_encryption_key_is_refused() {
    assert_binary_refuses_config(
        BINARY,
        &[("TOKEN_ENCRYPTION_KEY", "c2hvcnQ=")],
        &["TOKEN_ENCRYPTION_KEY: the sealing key must be 32 bytes"],
    );
}
