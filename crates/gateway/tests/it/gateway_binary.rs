use sqlx::MySqlPool;
use tca_common::testing::{
    assert_binary_refuses_config, assert_binary_serves_and_stops_cleanly, database_url_of,
};

const BINARY: &str = env!("CARGO_BIN_EXE_gateway");

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    assert_binary_serves_and_stops_cleanly(
        BINARY,
        "GATEWAY_ADDR",
        &[
            ("DATABASE_URL", &url),
            ("PUBLIC_URL", "http://localhost:8080"),
            ("TWITCH_API_URL", "http://127.0.0.1:1/"),
            ("ANALYSIS_URL", "http://127.0.0.1:1/"),
            (
                "INTERNAL_API_TOKEN",
                "test-internal-token-0123456789abcdef0123456789",
            ),
            (
                "ALERT_ENCRYPTION_KEY",
                "YWxlcnRzLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=",
            ),
        ],
    )
    .await;
}

#[test]
fn binary_without_its_required_variables_exits_non_zero_naming_each() {
    assert_binary_refuses_config(
        BINARY,
        &[
            ("GATEWAY_ADDR", "not-an-address"),
            ("LOG_FORMAT", "xml"),
            ("PUBLIC_URL", "ftp://x"),
        ],
        &[
            "DATABASE_URL is missing",
            "GATEWAY_ADDR is not a socket address like 127.0.0.1:8080: 'not-an-address'",
            "LOG_FORMAT must be one of json, pretty: 'xml'",
            "PUBLIC_URL is not an http(s) URL: 'ftp://x'",
            "TWITCH_API_URL is missing",
            "ANALYSIS_URL is missing",
            "INTERNAL_API_TOKEN is missing",
            "ALERT_ENCRYPTION_KEY is missing",
        ],
    );
}
