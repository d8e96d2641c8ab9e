use sqlx::MySqlPool;
use tca_common::testing::{
    assert_binary_refuses_config, assert_binary_serves_and_stops_cleanly, database_url_of,
};

const BINARY: &str = env!("CARGO_BIN_EXE_analysis");

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn binary_serves_ops_endpoints_and_exits_zero_on_sigterm(pool: MySqlPool) {
    let url = database_url_of(&pool).await;
    assert_binary_serves_and_stops_cleanly(
        BINARY,
        "ANALYSIS_ADDR",
        &[
            ("DATABASE_URL", &url),
            (
                "INTERNAL_API_TOKEN",
                "test-internal-token-0123456789abcdef0123",
            ),
        ],
    )
    .await;
}

#[test]
fn binary_without_database_url_exits_non_zero_naming_it() {
    assert_binary_refuses_config(
        BINARY,
        &[("ANALYSIS_ADDR", "not-an-address"), ("LOG_FORMAT", "xml")],
        &[
            "DATABASE_URL is missing",
            "ANALYSIS_ADDR is not a socket address like 127.0.0.1:8080: 'not-an-address'",
            "LOG_FORMAT must be one of json, pretty: 'xml'",
            "INTERNAL_API_TOKEN is missing",
        ],
    );
}

#[sqlx::test(migrations = false)]
async fn readyz_reports_unapplied_migrations_until_they_are_applied(pool: MySqlPool) {
    use std::collections::HashMap;
    use std::time::Duration;
    use tca_common::testing::{ChildService, free_addr};

    // analysis does not migrate; it must say it is not ready on an old schema.
    let url = database_url_of(&pool).await;
    let addr = free_addr();
    let env = HashMap::from([
        ("DATABASE_URL".to_string(), url),
        ("ANALYSIS_ADDR".to_string(), addr.to_string()),
        (
            "INTERNAL_API_TOKEN".to_string(),
            "test-internal-token-0123456789abcdef0123".to_string(),
        ),
    ]);
    let service = ChildService::spawn(BINARY, addr, &env);
    let client = reqwest::Client::new();
    let mut answer = None;
    for _ in 0..600 {
        if let Ok(response) = client.get(service.url("/readyz")).send().await {
            answer = Some((response.status(), response.text().await.unwrap_or_default()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = answer.expect("analysis answered /readyz");
    assert_eq!(status, 503);
    assert!(body.contains("migrations not applied"), "{body}");

    tca_common::db::migrate(&pool).await.expect("migrate");
    let response = client
        .get(service.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(response.status(), 200);
}
