//! The HTTP server every service runs: a client that never finishes sending its headers is
//! disconnected after the header timeout instead of holding a connection for ever.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tca_common::server::serve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let router = Router::new().route("/", get(|| async { "ok" }));
    let server = tokio::spawn(serve(
        listener,
        router,
        stop.clone(),
        Duration::from_millis(300),
    ));

    // A whole request is answered.
    let mut whole = TcpStream::connect(addr).await.expect("connect");
    whole
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("send");
    let mut answer = String::new();
    whole.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Headers that never end: the server hangs up once the timeout has passed.
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("send");
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "still open after 5 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );

    stop.cancel();
    server.await.expect("join").expect("served");
}
