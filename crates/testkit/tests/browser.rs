//! The browser fills a labelled form on a local page, submits it, reads the result and takes a
//! screenshot; dropping it leaves no chromedriver or Chromium process behind.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Form;
use axum::response::Html;
use axum::routing::{get, post};
use gatehouse_testkit::Browser;

const WAIT: Duration = Duration::from_secs(10);

const FORM: &str = r#"<!doctype html>
<html lang="en"><head><title>Greeter</title></head>
<body>
  <h1>Greeter</h1>
  <form method="post" action="/greet">
    <label for="name">Your   name</label>
    <input id="name" name="name" value="placeholder">
    <label>Team <input name="team"></label>
    <button type="submit">Say hello</button>
  </form>
</body></html>"#;

#[derive(serde::Deserialize)]
struct Greeting {
    name: String,
    team: String,
}

/// Escapes the few characters that matter in HTML text: a test page must not be an XSS demo.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn greet(Form(g): Form<Greeting>) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="en"><head><title>Hello</title></head><body>
        <p id="result">Hello, {} of {}!</p></body></html>"#,
        escape(&g.name),
        escape(&g.team)
    ))
}

/// Serves the form on a loopback port; the server stops with the test's runtime.
async fn serve() -> String {
    let app = Router::new()
        .route("/", get(|| async { Html(FORM) }))
        .route("/greet", post(greet));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_labelled_form_is_filled_submitted_and_photographed() {
    let Some(browser) = Browser::start_or_skip("browser::a_labelled_form").await else {
        return;
    };
    let base = serve().await;
    browser.goto(&format!("{base}/")).await.unwrap();
    browser.wait_for_text("Greeter", WAIT).await.unwrap();

    // By label text (whitespace collapsed, `for` attribute), by a label wrapping its input.
    browser.fill("Your name", "Ada <Lovelace>").await.unwrap();
    browser.fill("Team", "Engines & co").await.unwrap();
    let err = browser.fill("No such label", "x").await.unwrap_err();
    assert!(format!("{err:#}").contains("Your name"), "{err:#}");
    assert!(browser.click_button("Nope").await.is_err());

    browser.click_button("Say hello").await.unwrap();
    let page = browser.wait_for_text("Hello, Ada", WAIT).await.unwrap();
    assert!(
        page.contains("Hello, Ada <Lovelace> of Engines & co!"),
        "{page}"
    );
    assert_eq!(
        browser.text_of("#result").await.unwrap(),
        "Hello, Ada <Lovelace> of Engines & co!"
    );
    assert_eq!(
        browser.current_url().await.unwrap(),
        format!("{base}/greet")
    );
    let err = browser
        .wait_for_text("never shown", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("/greet"), "{err:#}");

    let path = browser.screenshot("testkit-browser-form").await.unwrap();
    assert!(path.ends_with("portal-screenshots/testkit-browser-form.png"));
    let png = std::fs::read(&path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // Dropping the browser kills chromedriver and every Chromium process of its profile.
    let driver = browser.driver_pid();
    let profile = browser.user_data_dir();
    assert!(profile.is_dir());
    assert!(!processes_mentioning(&profile.to_string_lossy()).is_empty());
    drop(browser);
    assert!(!std::path::Path::new(&format!("/proc/{driver}")).exists());
    let deadline = Instant::now() + WAIT;
    loop {
        let left = processes_mentioning(&profile.to_string_lossy());
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left running: {left:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!profile.exists());
}

#[tokio::test]
async fn close_ends_the_session_and_the_processes() {
    let Some(browser) = Browser::start_or_skip("browser::close_ends_the_session").await else {
        return;
    };
    let base = serve().await;
    browser.goto(&base).await.unwrap();
    assert!(browser.page_text().await.unwrap().contains("Greeter"));
    let profile = browser.user_data_dir();
    browser.close().await.unwrap();
    let deadline = Instant::now() + WAIT;
    while !processes_mentioning(&profile.to_string_lossy()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "Chromium left running after close"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!profile.exists());
}

/// Live (not zombie) processes whose command line contains `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(pid);
        }
    }
    found
}
