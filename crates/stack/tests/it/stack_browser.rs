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
use tca_twitch_fake::Scenario;

use crate::stack_worlds::{wave_audience, world};

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
    browser_in(driver, "en-US", "").await
}

/// A browser whose languages are `accept_language` (what it sends as `Accept-Language`), with
/// its own profile (`profile` names it: another profile is another browser, no cookies).
async fn browser_in(driver: &Driver, accept_language: &str, profile: &str) -> Client {
    let chromium = find_program(
        "chromium",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let primary = accept_language.split(',').next().unwrap_or("en-US");
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                format!("--lang={primary}"),
                format!("--user-data-dir={}{profile}", driver.profile.display()),
            ],
            "prefs": { "intl.accept_languages": accept_language }
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

/// Clicks the element `css` selects.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The rendered text of the element `css` selects, read in one script: live updates replace
/// rows between two WebDriver calls (a found element would go stale before its text is read).
async fn text_of(client: &Client, css: &str) -> String {
    let text = client
        .execute(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText : null;",
            vec![serde_json::json!(css)],
        )
        .await
        .expect("script");
    match text {
        serde_json::Value::String(text) => text.trim().to_string(),
        other => panic!("{css}: no such element ({other})"),
    }
}

/// From the landing page through twitch-fake's consent page (mossy_mod is preselected).
async fn log_in(client: &Client, stack: &Stack, shots: &str) {
    let wait = Duration::from_secs(30);
    client
        .goto(&format!("{}/", stack.public_url))
        .await
        .expect("landing");
    snap(client, &format!("{shots}01-landing")).await;
    click(client, "#login").await;

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
    snap(client, &format!("{shots}02-consent")).await;
    click(client, "#authorize").await;
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

    log_in(&client, &stack, "").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("button.capture-now[data-channel='watched']"))
        .await
        .expect("channels page");
    assert!(text_of(&client, "#channel-watched").await.contains("Live"));
    snap(&client, "03-channels").await;
    click(&client, "button.capture-now[data-channel='watched']").await;

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

    click(&client, "#save-session").await;
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

    click(&client, "#logout").await;
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

/// Polls a script until it returns something truthy (charts draw after their data arrives).
async fn wait_for_script(client: &Client, script: &str, what: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let value = client.execute(script, vec![]).await.expect(what);
        let ready = match &value {
            serde_json::Value::Null | serde_json::Value::Bool(false) => false,
            serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        };
        if ready {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: still {value}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many data points the ECharts chart in `#id` draws in its first series.
fn points_in(id: &str) -> String {
    format!(
        "const c = window.echarts && echarts.getInstanceByDom(document.getElementById('{id}')); \
         if (!c) return 0; const s = c.getOption().series; return s.length ? s[0].data.length : 0;"
    )
}

const WAVE_DAY: &str = "2024-03-14";

#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_moderator_reads_the_dashboard_drills_into_the_wave_filters_and_downloads_csv(
    pool: MySqlPool,
) {
    let scenario = world(&wave_audience(900, 0.0, 40, 120));
    let stack = Stack::start(pool.clone(), scenario, Options::default())
        .await
        .expect("stack");
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let wait = Duration::from_secs(30);
    log_in(&client, &stack, "dashboard-").await;

    // Two captures through the UI, then enrichment (creation dates) finishes.
    for done in 1..=2 {
        client
            .goto(&format!("{}/channels", stack.public_url))
            .await
            .expect("channels");
        client
            .wait()
            .at_most(wait)
            .for_element(Locator::Css("button.capture-now[data-channel='watched']"))
            .await
            .expect("capture button");
        click(&client, "button.capture-now[data-channel='watched']").await;
        let finished = wait_for_script(
            &client,
            &format!(
                "return document.querySelectorAll(\"#capture-rows tr[data-status='done']\").length >= {done}"
            ),
            "capture done",
        )
        .await;
        assert_eq!(finished, true);
    }
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");

    // The session page links to the dashboard.
    click(&client, "#open-analysis").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#dashboard"))
        .await
        .expect("dashboard");
    let dashboard_url = client.current_url().await.expect("url");
    let accounts: u64 = text_of(&client, "#kpi-accounts")
        .await
        .replace(',', "")
        .parse()
        .expect("a number");
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM session_accounts")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(accounts as i64, seen);
    assert!(
        accounts >= 900 + 120 + 2,
        "humans, the wave, broadcaster and moderator (lurkers stay out of chat)"
    );

    // Every chart is drawn from its data.
    let creation_days =
        wait_for_script(&client, &points_in("chart-creation"), "creation chart").await;
    assert!(
        creation_days.as_u64().unwrap_or(0) > 100,
        "one bar per day: {creation_days}"
    );
    let captures = wait_for_script(&client, &points_in("chart-timeline"), "timeline chart").await;
    assert!(captures.as_u64().unwrap_or(0) >= 1, "{captures}");
    assert_eq!(
        wait_for_script(&client, &points_in("chart-scores"), "score chart").await,
        10
    );
    let bursts = client
        .execute(
            "const o = echarts.getInstanceByDom(document.getElementById('chart-creation')).getOption(); \
             return o.series[0].data.filter(d => d.bucket.burst).map(d => d.bucket.start);",
            vec![],
        )
        .await
        .expect("bursts");
    assert!(
        bursts
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d == WAVE_DAY),
        "the wave day is drawn as a burst: {bursts}"
    );
    client
        .execute(
            "document.getElementById('chart-creation').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    snap(&client, "dashboard-03-charts").await;

    // The wave is the first cohort: a bot cohort with its evidence in numbers, its chart
    // drawn (members created per hour, present per capture), its members on demand.
    let first = text_of(&client, "#cohorts article:first-of-type").await;
    assert!(first.contains("bot cohort"), "{first}");
    // The wave's 120, and any human that happens to share all of its evidence.
    let size: u64 = client
        .find(Locator::Css("#cohorts article:first-of-type .cohort-size"))
        .await
        .expect("size")
        .attr("data-size")
        .await
        .expect("attribute")
        .expect("data-size")
        .parse()
        .expect("a size");
    assert!((120..=125).contains(&size), "{first}");
    assert!(
        first.contains("`brook_fan` + digits") && first.contains("created Mar 14, 2024"),
        "the evidence names the stem and the creation window: {first}"
    );
    let chart = "const c = window.echarts && echarts.getInstanceByDom(\
        document.querySelector('#cohorts article:first-of-type [data-cohort-chart]')); \
        if (!c) return 0; const s = c.getOption().series; \
        return s.length > 1 ? s[0].data.reduce((n, d) => n + d, 0) : 0;";
    assert_eq!(
        wait_for_script(&client, chart, "cohort chart").await,
        size,
        "every member's creation is drawn"
    );
    click(
        &client,
        "#cohorts article:first-of-type button.cohort-members",
    )
    .await;
    let members = wait_for_script(
        &client,
        "return document.querySelectorAll('.cohort-list li').length",
        "cohort members",
    )
    .await;
    assert_eq!(members, 50, "the first 50 of its members");
    let listed = text_of(&client, ".cohort-list").await;
    assert!(
        listed.contains("brook_fan") && listed.contains(&format!("All {size} members")),
        "{listed}"
    );
    snap(&client, "dashboard-04-cohort").await;
    click(&client, ".cohort-list li:first-child a").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#account-cohort"))
        .await
        .expect("a member's page links its cohort");
    assert!(
        text_of(&client, "#account-login")
            .await
            .starts_with("brook_fan")
    );
    assert!(
        text_of(&client, "#account-reasons")
            .await
            .contains("Member of cohort #")
    );
    // The cohort's page: its evidence, its chart, its members.
    click(&client, "#account-cohort").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#cohort-accounts"))
        .await
        .expect("cohort page");
    assert!(
        text_of(&client, "#cohort-evidence")
            .await
            .contains("`brook_fan` + digits")
    );
    assert_eq!(
        client
            .find_all(Locator::Css("#cohort-accounts tbody tr"))
            .await
            .expect("rows")
            .len(),
        100,
        "the first page of its members"
    );
    let chart = chart.replace("#cohorts article:first-of-type ", "");
    assert_eq!(
        wait_for_script(&client, &chart, "cohort page chart").await,
        size
    );
    snap(&client, "dashboard-05-cohort-page").await;
    client.goto(dashboard_url.as_str()).await.expect("back");

    // The wave is the top day, marked as a wave held by the bot cohort; its drill-down lists
    // accounts, lazily.
    let top = text_of(&client, "#top-days tbody tr:first-child").await;
    assert!(top.contains(WAVE_DAY) && top.contains("wave"), "{top}");
    assert!(top.contains("(cohort #"), "{top}");
    client
        .find(Locator::Css(&format!(
            "button.drill[data-day='{WAVE_DAY}']"
        )))
        .await
        .expect("drill button")
        .click()
        .await
        .expect("click");
    let listed = wait_for_script(
        &client,
        "return document.querySelectorAll('.drill-row li').length",
        "drill-down",
    )
    .await;
    assert_eq!(listed, 50, "the first 50 of the day's accounts");
    let drill = text_of(&client, ".drill-row").await;
    assert!(drill.contains("brook_fan"), "{drill}");
    snap(&client, "dashboard-06-drill-down").await;

    // Flagged accounts explain themselves; a login opens the account page.
    let first_flagged = text_of(&client, "#flagged-accounts tbody tr:first-child").await;
    assert!(first_flagged.contains("brook_fan"), "{first_flagged}");
    click(&client, "#flagged-accounts tbody tr:first-child a").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#account-reasons"))
        .await
        .expect("account page");
    assert!(
        text_of(&client, "#account-login")
            .await
            .starts_with("brook_fan")
    );
    let reasons = text_of(&client, "#account-reasons").await;
    assert!(reasons.contains("created Mar 14, 2024"), "{reasons}");
    assert_eq!(
        client
            .find_all(Locator::Css("#account-captures tbody tr"))
            .await
            .expect("rows")
            .len(),
        2,
        "always present: in both captures"
    );
    snap(&client, "dashboard-07-account").await;

    // Filter to accounts created on the wave day.
    client.goto(dashboard_url.as_str()).await.expect("back");
    client
        .execute(
            &format!(
                "document.getElementById('from').value = '{WAVE_DAY}'; \
                 document.getElementById('to').value = '{WAVE_DAY}';"
            ),
            vec![],
        )
        .await
        .expect("set dates");
    click(&client, "#apply-filter").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css(&format!("#from[value='{WAVE_DAY}']")))
        .await
        .expect("filtered dashboard");
    let on_wave_day: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM session_accounts sa JOIN twitch_accounts a ON a.id = sa.account_id \
         WHERE DATE(a.twitch_created_at) = ?",
    )
    .bind(WAVE_DAY)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert!(on_wave_day >= 120);
    assert_eq!(
        text_of(&client, "#kpi-accounts").await.replace(',', ""),
        on_wave_day.to_string()
    );
    assert_eq!(
        wait_for_script(&client, &points_in("chart-creation"), "filtered chart").await,
        1,
        "one day left on the chart"
    );
    snap(&client, "dashboard-08-filtered").await;

    // The CSV link carries the filter: exactly the filtered accounts, with the browser's cookie.
    let href = client
        .find(Locator::Css("#export-accounts-csv"))
        .await
        .expect("export link")
        .attr("href")
        .await
        .expect("href")
        .expect("has href");
    assert!(href.contains(&format!("from={WAVE_DAY}")), "{href}");
    let csv = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])));",
            vec![serde_json::json!(href)],
        )
        .await
        .expect("download");
    assert_eq!(csv[0], 200);
    assert!(
        csv[1].as_str().unwrap_or("").starts_with("attachment"),
        "{}",
        csv[1]
    );
    let body = csv[2].as_str().expect("text");
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("twitch_user_id,login"), "{}", lines[0]);
    assert_eq!(
        lines.len() as i64 - 1,
        on_wave_day,
        "one row per filtered account"
    );
    assert!(
        lines[1..].iter().all(|l| l.contains(WAVE_DAY)),
        "every row created that day"
    );
    client.close().await.expect("close browser");
}

/// The detection suite's launch-day crowd (scenarios/eval/05): 300 real people who signed up
/// on one day, coming and going on their own. The day is a burst, but the dashboard sends
/// nobody after them: no bot cohort, and the top day says "burst, no shared arrival".
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn the_launch_day_crowd_shows_as_a_burst_without_a_bot_cohort(pool: MySqlPool) {
    let suite = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/eval/05_launch_day_crowd.toml"
    );
    let text = std::fs::read_to_string(suite).expect("the suite's scenario");
    let scenario = Scenario::parse(&format!("seed = 1\n{text}")).expect("scenario");
    let stack = Stack::start(pool.clone(), scenario, Options::default())
        .await
        .expect("stack");
    let moderator = stack.login("eval_mod").await.expect("moderator");
    let (session, channel) = stack
        .session_with_channel(moderator, "launchday_live")
        .await
        .expect("session");
    for _ in 0..3 {
        stack
            .capture_done(channel, moderator, Duration::from_secs(60))
            .await
            .expect("capture");
    }
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");
    let launch_day: String = sqlx::query_scalar(
        "SELECT CAST(DATE(a.twitch_created_at) AS CHAR) FROM session_accounts sa \
         JOIN twitch_accounts a ON a.id = sa.account_id \
         GROUP BY DATE(a.twitch_created_at) ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the busiest creation day");
    let public_id: String =
        sqlx::query_scalar("SELECT public_id FROM analysis_sessions WHERE id = ?")
            .bind(session)
            .fetch_one(&pool)
            .await
            .expect("public id");

    let driver = start_driver().await;
    let client = browser(&driver).await;
    log_in(&client, &stack, "crowd-").await;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#logout"))
        .await
        .expect("logged in");
    client
        .goto(&format!(
            "{}/sessions/{public_id}/analysis",
            stack.public_url
        ))
        .await
        .expect("dashboard");
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#cohorts"))
        .await
        .expect("cohorts section");
    let top = text_of(&client, "#top-days tbody tr:first-child").await;
    assert!(top.contains(&launch_day), "{top}");
    assert!(
        top.contains("burst, no shared arrival") && !top.contains("wave"),
        "the launch day is a burst, not a wave: {top}"
    );
    assert!(top.contains("none"), "no bot cohort holds it: {top}");
    assert!(
        client
            .find_all(Locator::Css("#cohorts article.cohort-bot"))
            .await
            .expect("articles")
            .is_empty(),
        "no bot cohort: {}",
        text_of(&client, "#cohorts").await
    );
    let crowds = text_of(&client, "#cohorts").await;
    assert!(
        crowds.contains("crowd") || crowds.contains("stands out"),
        "{crowds}"
    );
    snap(&client, "crowd-03-dashboard").await;
    client.close().await.expect("close browser");
}

/// A French moderator's whole journey is in French — the fake Twitch's consent page, the
/// channels, the live capture, the dashboard with its charts' titles, legends and axes, a
/// reason on an account's page — until they switch to English from the header: the same page
/// comes back in English, and the choice follows them to a new browser at the next login.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_french_moderator_reads_everything_in_french_and_switches_to_english(pool: MySqlPool) {
    let scenario = world(&wave_audience(300, 0.0, 10, 60));
    let stack = Stack::start(pool.clone(), scenario, Options::default())
        .await
        .expect("stack");
    let driver = start_driver().await;
    let client = browser_in(&driver, "fr-FR,fr", "-fr").await;
    let wait = Duration::from_secs(30);
    let lang = "return document.documentElement.lang";

    // Twitch's (fake) consent page speaks the browser's language.
    client
        .goto(&format!("{}/", stack.public_url))
        .await
        .expect("landing");
    assert_eq!(client.execute(lang, vec![]).await.expect("lang"), "fr");
    assert_eq!(text_of(&client, "#login").await, "Se connecter avec Twitch");
    click(&client, "#login").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#authorize"))
        .await
        .expect("consent page");
    assert_eq!(text_of(&client, "#authorize").await, "Autoriser");
    snap(&client, "fr-01-consent").await;
    click(&client, "#authorize").await;

    // The channels page, then a capture followed live.
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("button.capture-now[data-channel='watched']"))
        .await
        .expect("channels");
    assert_eq!(text_of(&client, "h1").await, "Vos chaînes");
    assert_eq!(
        text_of(&client, "button.capture-now[data-channel='watched']").await,
        "Capturer maintenant"
    );
    click(&client, "button.capture-now[data-channel='watched']").await;
    wait_for_script(
        &client,
        "return document.querySelectorAll(\"#capture-rows tr[data-status='done']\").length >= 1",
        "capture done",
    )
    .await;
    // Read in one script: the live progress may replace the rows between two WebDriver calls.
    let status = client
        .execute(
            "return document.querySelector(\"#capture-rows tr[data-status='done'] .status\").textContent",
            vec![],
        )
        .await
        .expect("status");
    assert_eq!(status, "terminée", "the live progress is in French too");
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");
    snap(&client, "fr-02-session").await;

    // The dashboard: headings, charts' titles, legends and axes in French.
    click(&client, "#open-analysis").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#dashboard"))
        .await
        .expect("dashboard");
    assert_eq!(text_of(&client, "h1").await, "Analyse");
    assert_eq!(text_of(&client, "#cohorts-title").await, "Cohortes");
    assert!(
        text_of(&client, "#cohorts article:first-of-type")
            .await
            .contains("cohorte de bots"),
    );
    wait_for_script(&client, &points_in("chart-creation"), "creation chart").await;
    let legends = client
        .execute(
            "const names = id => echarts.getInstanceByDom(document.getElementById(id)).getOption() \
               .series.map(s => s.name); \
             return [names('chart-creation'), names('chart-timeline'), \
               echarts.getInstanceByDom(document.getElementById('chart-timeline')).getOption().yAxis[0].name];",
            vec![],
        )
        .await
        .expect("legends");
    assert_eq!(
        legends,
        serde_json::json!([
            ["comptes", "attendus"],
            ["chatteurs de watched", "spectateurs de watched"],
            "comptes"
        ]),
    );
    let headings = text_of(&client, "#dashboard").await;
    for title in [
        "Chatteurs et spectateurs au fil du temps",
        "Dates de création des comptes",
        "Scores de suspicion",
    ] {
        assert!(headings.contains(title), "{title}: {headings}");
    }
    snap(&client, "fr-03-dashboard").await;

    // An account's reasons, in French.
    click(&client, "#flagged-accounts tbody tr:first-child a").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#account-reasons"))
        .await
        .expect("account page");
    let reasons = text_of(&client, "#account-reasons").await;
    assert!(
        reasons.contains("Membre de la cohorte n°") && reasons.contains("créés le 14 mars 2024"),
        "{reasons}"
    );
    let account_url = client.current_url().await.expect("url");
    snap(&client, "fr-04-account").await;

    // The header's switch: the same page, in English.
    click(&client, "#language-switch").await;
    wait_for_script(
        &client,
        "return document.documentElement.lang === 'en'",
        "English page",
    )
    .await;
    assert_eq!(client.current_url().await.expect("url"), account_url);
    let reasons = text_of(&client, "#account-reasons").await;
    assert!(
        reasons.contains("Member of cohort #") && reasons.contains("created Mar 14, 2024"),
        "{reasons}"
    );
    snap(&client, "fr-05-switched").await;
    client.close().await.expect("close browser");

    // A new browser, still French, no cookie: after the next login, English follows.
    let other = browser_in(&driver, "fr-FR,fr", "-fr-2").await;
    log_in(&other, &stack, "fr-06-").await;
    other
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("button.capture-now"))
        .await
        .expect("channels");
    assert_eq!(other.execute(lang, vec![]).await.expect("lang"), "en");
    assert_eq!(text_of(&other, "h1").await, "Your channels");
    other.close().await.expect("close browser");
}

/// Types `text` into the input `css` selects.
async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// The fake Twitch's bans in a channel: who is banned now, and how often each was banned.
async fn fake_bans(stack: &Stack, channel: &str) -> (Vec<String>, serde_json::Value) {
    let truth: serde_json::Value = reqwest::get(stack.fake.url(&format!("/_fake/bans/{channel}")))
        .await
        .expect("truth")
        .json()
        .await
        .expect("json");
    let mut banned: Vec<String> = truth["banned"]
        .as_array()
        .expect("banned")
        .iter()
        .map(|b| b["id"].as_str().expect("id").to_string())
        .collect();
    banned.sort();
    (banned, truth["counts"].clone())
}

/// Waits until the batch page (reloaded by its script when the batch ends) says `status`.
async fn wait_for_batch(client: &Client, status: &str) {
    let script = format!(
        "const s = document.getElementById('batch-progress'); return s && s.dataset.status === '{status}';"
    );
    wait_for_script(client, &script, &format!("batch {status}")).await;
}

/// The moderator's side, end to end in a browser: the farm cohort is chosen with Nightbot and
/// the moderator themself added by hand; the preview leaves those two out, saying why
/// (Nightbot was trusted for the moderator at their first login); actions are enabled through
/// Twitch's consent for the extra scope; the count is typed; the progress runs to the end on
/// the page; the results are listed; undo unbans them. Twitch's truth: exactly the farm was
/// banned, once each, then nobody.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_moderator_bans_the_farm_cohort_watches_it_done_and_undoes_it(pool: MySqlPool) {
    let mut scenario =
        crate::stack_worlds::with_nightbot(world(&wave_audience(200, 0.0, 10, 120)), "watched");
    // Twitch's per-channel ban limit (100 per 30 s) would make the test wait half a minute;
    // the limit's handling is tested in twitch-api's tests and in the chaos run.
    scenario.rate_limit.bans_per_window = 1000;
    let stack = Stack::start(pool.clone(), scenario, Options::default())
        .await
        .expect("stack");
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let wait = Duration::from_secs(30);
    log_in(&client, &stack, "moderation-").await;

    // Nightbot is trusted for every new user, by its Twitch id (resolved through twitch-api).
    let started = Instant::now();
    loop {
        let trusted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_marks WHERE twitch_user_id = '19264788' AND label = 'trusted' AND origin = 'common_bot'",
        )
        .fetch_one(&pool)
        .await
        .expect("marks");
        if trusted == 1 {
            break;
        }
        assert!(started.elapsed() < wait, "Nightbot was not trusted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Two captures, then the creation dates.
    for done in 1..=2 {
        client
            .goto(&format!("{}/channels", stack.public_url))
            .await
            .expect("channels");
        client
            .wait()
            .at_most(wait)
            .for_element(Locator::Css("button.capture-now[data-channel='watched']"))
            .await
            .expect("capture button");
        click(&client, "button.capture-now[data-channel='watched']").await;
        wait_for_script(
            &client,
            &format!(
                "return document.querySelectorAll(\"#capture-rows tr[data-status='done']\").length >= {done}"
            ),
            "capture done",
        )
        .await;
    }
    stack
        .wait_idle("enrich_accounts", Duration::from_secs(60))
        .await
        .expect("enriched");

    // The farm is the first cohort; its page offers to act on it.
    click(&client, "#open-analysis").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#cohorts article:first-of-type h3 a"))
        .await
        .expect("dashboard");
    click(&client, "#cohorts article:first-of-type h3 a").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#cohort-act"))
        .await
        .expect("cohort page");
    let members: Vec<String> = sqlx::query_scalar(
        "SELECT a.twitch_user_id FROM twitch_accounts a WHERE a.login LIKE 'brook\\_fan%' ORDER BY a.twitch_user_id",
    )
    .fetch_all(&pool)
    .await
    .expect("farm");
    assert_eq!(members.len(), 120);
    client
        .find(Locator::Css(
            "#cohort-act select[name='broadcaster_id'] option[value='900000001']",
        ))
        .await
        .expect("the watched channel")
        .click()
        .await
        .expect("choose it");
    type_into(
        &client,
        "#cohort-act input[name='reason']",
        "follow-bot farm",
    )
    .await;
    type_into(
        &client,
        "#cohort-act input[name='also']",
        "nightbot, mossy_mod",
    )
    .await;
    snap(&client, "moderation-01-choose").await;
    click(&client, "#act-cohort").await;

    // The preview: who will be banned, who is left out and why.
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#batch-targets-list"))
        .await
        .expect("preview");
    let targets: u64 = text_of(&client, "#batch-targets")
        .await
        .parse()
        .expect("count");
    let left_out = text_of(&client, "#batch-left-out-list").await;
    assert!(
        left_out.contains("nightbot") && left_out.contains("trusted"),
        "{left_out}"
    );
    assert!(
        left_out.contains("mossy_mod") && left_out.contains("you (the moderator)"),
        "{left_out}"
    );
    let previewed: Vec<String> = sqlx::query_scalar(
        "SELECT i.twitch_user_id FROM moderation_items i WHERE i.status = 'pending' ORDER BY i.twitch_user_id",
    )
    .fetch_all(&pool)
    .await
    .expect("items");
    assert_eq!(previewed, members, "the farm, exactly");
    assert_eq!(targets, 120);
    snap(&client, "moderation-02-preview").await;

    // Actions are not enabled yet: Twitch's consent for the ban scope, back to this page.
    assert!(
        text_of(&client, "#batch-needs-consent")
            .await
            .contains("consent")
    );
    click(&client, "#actions-enable").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#authorize"))
        .await
        .expect("consent page again");
    let asked = text_of(&client, "ul").await;
    assert!(asked.contains("moderator:manage:banned_users"), "{asked}");
    snap(&client, "moderation-03-consent").await;
    click(&client, "#authorize").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#batch-confirm"))
        .await
        .expect("back on the preview, actions enabled");

    // Confirm by typing the count; the progress runs to the end on the page.
    type_into(&client, "#batch-count", &targets.to_string()).await;
    click(&client, "#batch-confirm button").await;
    wait_for_batch(&client, "done").await;
    snap(&client, "moderation-04-done").await;
    assert_eq!(text_of(&client, "#batch-done").await, "120");
    let results = text_of(&client, "#batch-results").await;
    assert!(results.contains("done"), "{results}");
    let (banned, counts) = fake_bans(&stack, "watched").await;
    assert_eq!(banned, members, "Twitch banned exactly the farm");
    for id in &members {
        assert_eq!(counts[id.as_str()]["bans"], 1, "{id} banned once");
    }

    // Undo: an unban batch of what this one banned, confirmed the same way.
    click(&client, "#batch-undo button").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#batch-confirm"))
        .await
        .expect("undo preview");
    assert_eq!(text_of(&client, "#batch-targets").await, "120");
    type_into(&client, "#batch-count", "120").await;
    click(&client, "#batch-confirm button").await;
    wait_for_batch(&client, "done").await;
    snap(&client, "moderation-05-undone").await;
    let (banned, counts) = fake_bans(&stack, "watched").await;
    assert!(banned.is_empty(), "nobody is banned any more: {banned:?}");
    for id in &members {
        assert_eq!(counts[id.as_str()]["unbans"], 1, "{id} unbanned once");
    }
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_logs WHERE event = 'batch_account'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 240, "every account's result, both batches");
    client.close().await.expect("close browser");
}

/// A moderator adds a Discord webhook for a channel from its card, sees it masked, sends a
/// test alert and, after a reload, reads that it was delivered; the fake's sink got it.
#[sqlx::test(migrator = "tca_common::db::MIGRATOR")]
async fn a_moderator_adds_a_discord_webhook_and_sends_a_test_alert(pool: MySqlPool) {
    let stack = Stack::start(pool.clone(), world("humans = 5"), Options::default())
        .await
        .expect("stack");
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let wait = Duration::from_secs(30);
    log_in(&client, &stack, "alerts-").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#channel-watched a.alerts-link"))
        .await
        .expect("channels page");
    click(&client, "#channel-watched a.alerts-link").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#alerts-add"))
        .await
        .expect("alerts page");
    let secret_url = stack.fake.url("/api/webhooks/4242/browser-s3cret-token");
    type_into(&client, "#alerts-add input[name=url]", &secret_url).await;
    snap(&client, "alerts-01-form").await;
    click(&client, "#alerts-add button[type=submit]").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#webhooks tr[data-webhook]"))
        .await
        .expect("the webhook is listed");
    let masked = text_of(&client, "#webhooks code.masked").await;
    assert!(masked.ends_with("…oken"), "{masked}");
    let page = client.source().await.expect("source");
    assert!(!page.contains("s3cret"), "the page shows the whole URL");

    click(&client, "#webhooks .send-test").await;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#alerts-notice"))
        .await
        .expect("the test is on its way");
    snap(&client, "alerts-02-test-queued").await;
    let started = Instant::now();
    loop {
        let sink = stack.fake_get("/_fake/webhooks/4242").await.expect("sink");
        if sink["received"].as_array().is_some_and(|r| !r.is_empty()) {
            assert_eq!(
                sink["received"][0]["embeds"][0]["title"],
                "Test alert for watched: this webhook works."
            );
            break;
        }
        assert!(started.elapsed() < wait, "the test alert never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The delivery is recorded right after the sink answers: reload until the page says so.
    let started = Instant::now();
    loop {
        client.refresh().await.expect("reload");
        let delivered = client
            .find(Locator::Css("#webhooks tr[data-status=sent]"))
            .await
            .is_ok();
        if delivered {
            break;
        }
        assert!(started.elapsed() < wait, "the page never said delivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        text_of(&client, "#webhooks tr[data-status=sent]")
            .await
            .contains("Delivered")
    );
    snap(&client, "alerts-03-delivered").await;
    client.close().await.expect("close");
}
