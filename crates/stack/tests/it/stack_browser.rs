//! What a moderator does, in a real headless Chromium driven through chromedriver: log in on
//! the fake Twitch's consent page, capture the 5k channel, watch the capture finish on the
//! session page without reloading, save the session, log out. Screenshots of every step go to
//! target/screenshots/browser/.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use sqlx::MySqlPool;
use tca_stack::{Options, Stack};

use crate::stack_worlds::world;

/// chromedriver on a free port; killed on drop.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn find_program(name: &str, fallbacks: &[&str]) -> PathBuf {
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.exists())
    });
    from_path
        .or_else(|| fallbacks.iter().map(PathBuf::from).find(|p| p.exists()))
        .unwrap_or_else(|| {
            panic!("{name} is not installed: scripts/test installs chromium and chromium-driver (Debian packages)")
        })
}

async fn start_driver() -> Driver {
    let port = tca_common::testing::free_addr().port();
    let child = Command::new(find_program("chromedriver", &["/usr/bin/chromedriver"]))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let profile = std::env::temp_dir().join(format!("tca-chromium-{}-{port}", std::process::id()));
    let started = Instant::now();
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        child,
        url,
        profile,
    }
}

async fn browser(driver: &Driver) -> Client {
    let chromium = find_program(
        "chromium",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", driver.profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("an object")
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots/browser");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn snap(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_moderator_logs_in_captures_watches_it_finish_saves_and_logs_out(pool: MySqlPool) {
    let stack = Stack::start(
        pool.clone(),
        world("humans = 5000\nlurkers = 100"),
        Options::default(),
    )
    .await
    .expect("stack");
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let wait = Duration::from_secs(30);

    client
        .goto(&format!("{}/", stack.public_url))
        .await
        .expect("landing");
    snap(&client, "01-landing").await;
    client
        .find(Locator::Css("#login"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("click");

    // twitch-fake's consent page: mossy_mod is preselected.
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#authorize"))
        .await
        .expect("consent page");
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .starts_with(&stack.fake.url("/oauth2/authorize"))
    );
    snap(&client, "02-consent").await;
    client
        .find(Locator::Css("#authorize"))
        .await
        .expect("authorize")
        .click()
        .await
        .expect("click");

    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("button.capture-now[data-channel='watched']"))
        .await
        .expect("channels page");
    assert!(text_of(&client, "#channel-watched").await.contains("Live"));
    snap(&client, "03-channels").await;
    client
        .find(Locator::Css("button.capture-now[data-channel='watched']"))
        .await
        .expect("capture now")
        .click()
        .await
        .expect("click");

    // The session page, then the capture finishing — pushed by the server, no reload.
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#capture-rows tr"))
        .await
        .expect("session page");
    let session_url = client.current_url().await.expect("url");
    snap(&client, "04-capture-queued").await;
    client
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("#capture-rows tr[data-status='done']"))
        .await
        .expect("the capture finished on screen");
    assert_eq!(
        client.current_url().await.expect("url"),
        session_url,
        "no navigation happened"
    );
    let chatters = text_of(
        &client,
        "#capture-rows tr[data-status='done'] [data-field='chatters']",
    )
    .await;
    assert_eq!(
        chatters, "5,002",
        "5,000 humans + the broadcaster + the moderator"
    );
    assert_eq!(text_of(&client, "#distinct-accounts").await, "5,002");
    snap(&client, "05-capture-done").await;

    client
        .find(Locator::Css("#save-session"))
        .await
        .expect("save")
        .click()
        .await
        .expect("click");
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#session-status.status-saved"))
        .await
        .expect("saved");
    snap(&client, "06-saved").await;
    let status: String = sqlx::query_scalar("SELECT status FROM analysis_sessions")
        .fetch_one(&pool)
        .await
        .expect("session");
    assert_eq!(status, "saved");

    client
        .find(Locator::Css("#logout"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("click");
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#login"))
        .await
        .expect("landing again");
    assert!(text_of(&client, ".notice").await.contains("logged out"));
    snap(&client, "07-logged-out").await;
    let web_sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(web_sessions, 0);
    client.close().await.expect("close browser");
}
