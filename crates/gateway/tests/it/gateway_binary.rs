use sqlx::MySqlPool;
use tca_common::testing::{
    assert_binary_refuses_config, assert_binary_serves_and_stops_cleanly, database_url_of,
};

const BINARY: &str = env!("CARGO_BIN_EXE_gateway");

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    assert_binary_serves_and_stops_cleanly(BINARY, "GATEWAY_ADDR", &[("DATABASE_URL", &url)]).await;
}

#[test]
fn binary_without_database_url_exits_non_zero_naming_it() {
    assert_binary_refuses_config(
        BINARY,
        &[("GATEWAY_ADDR", "not-an-address"), ("LOG_FORMAT", "xml")],
        &[
            "DATABASE_URL is missing",
            "GATEWAY_ADDR is not a socket address like 127.0.0.1:8080: 'not-an-address'",
            "LOG_FORMAT must be one of json, pretty: 'xml'",
        ],
    );
}
