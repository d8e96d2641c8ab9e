use tca_common::testing::{assert_binary_refuses_config, assert_binary_serves_and_stops_cleanly};

const BINARY: &str = env!("CARGO_BIN_EXE_twitch-fake");

#[tokio::test]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm() {
    // It keeps no database: ready as soon as it listens.
    assert_binary_serves_and_stops_cleanly(BINARY, "TWITCH_FAKE_ADDR", &[]).await;
}

#[test]
fn binary_with_a_bad_address_exits_non_zero_naming_it() {
    assert_binary_refuses_config(
        BINARY,
        &[("TWITCH_FAKE_ADDR", "8900")],
        &["TWITCH_FAKE_ADDR is not a socket address like 127.0.0.1:8080: '8900'"],
    );
}
