//! The developer portal in a real browser (Debian's chromium through chromedriver), against the
//! real binary over a real store, a real gateway, a real backend and a local SMTP sink. The
//! journey of the issue: sign up → confirm by the e-mailed link → sign in (and reset the
//! password by e-mail) → find an imported API
//! and read its operations → subscribe → show the key → try it in the console (the backend's
//! 200) → regenerate the key (the old one gets 401 at the gateway). Also: an approval-required
//! product, a blocked user, a wrong password, a missing CSRF token. Each step saves a screenshot
//! under target/portal-screenshots/.

mod support;

use gatehouse_testkit::browser::fantoccini::Locator;
use gatehouse_testkit::{Browser, Gatehouse, MockBackend, Probe, SmtpSink, TempDir, free_addr_on};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const V: &str = "api-version=2022-08-01";
/// Bounds for events (a page, a mail, a change reaching the gateway) on a loaded CI machine;
/// each wait returns as soon as the event happens.
const WAIT: Duration = Duration::from_secs(15);
const EMAIL: &str = "ann.lee@example.com";
const PASSWORD: &str = "correct-horse-9";
const NEW_PASSWORD: &str = "battery-staple-7";

struct Site {
    gw: Gatehouse,
    gateway: SocketAddr,
    management: SocketAddr,
    portal: String,
    token: String,
    http: reqwest::Client,
    _backend: MockBackend,
    _dir: TempDir,
}

impl Site {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let req = self
            .http
            .request(method, format!("http://{}/{path}{sep}{V}", self.management))
            .header("Authorization", &self.token);
        support::send_json(req, body).await
    }

    /// The gateway's status for GET /petstore/pets with `key`.
    async fn gateway_status(&self, key: &str) -> u16 {
        self.http
            .get(format!("http://{}/petstore/pets", self.gateway))
            .header("Ocp-Apim-Subscription-Key", key)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    async fn wait_gateway(&self, key: &str, want: u16) {
        support::wait_for_status(
            "/petstore/pets",
            want,
            WAIT,
            || self.gateway_status(key),
            || self.gw.logs_text(),
        )
        .await;
    }
}

async fn start(smtp: &SmtpSink) -> Site {
    let dir = TempDir::new().expect("tempdir");
    let backend = MockBackend::start().await.expect("backend");
    let gateway = free_addr_on(Ipv4Addr::LOCALHOST);
    let management = free_addr_on(Ipv4Addr::LOCALHOST);
    let portal = free_addr_on(Ipv4Addr::LOCALHOST);
    let key = dir.path().join("secret.key");
    std::fs::write(
        &key,
        format!("{:064x}\n", 0x5eed_u128 * std::process::id() as u128),
    )
    .expect("key");
    let store = format!("sqlite://{}", dir.path().join("store.db").display());
    let file = dir.path().join("initial.yaml");
    std::fs::write(
        &file,
        format!(
            r#"
service: {{ name: contoso }}
gateway: {{ listeners: [ {{ address: "{gateway}" }} ] }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
products:
  - {{ id: starter, display_name: Starter, description: Free access for everyone, groups: [developers, guests] }}
  - {{ id: gold, display_name: Gold, description: Approved partners, groups: [developers], approval_required: true }}
"#
        ),
    )
    .expect("config");
    support::store_import(BIN, &file, &store, &key);
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("builder")
        .args([
            "serve",
            "--store",
            &store,
            "--secret-key-file",
            key.to_str().expect("utf-8"),
            "--management-listen",
            &management.to_string(),
            "--portal-listen",
            &portal.to_string(),
            "--smtp",
            &smtp.url(),
            "--smtp-from",
            "Contoso portal <portal@contoso.example>",
        ])
        // The portal binds before the management API (crates/cli/src/serve.rs, Management::start):
        // once the management port accepts, both do.
        .probe(Probe::Tcp(management))
        .start_without_config()
        .await
        .expect("gatehouse serve starts");
    let out = Command::new(BIN)
        .args([
            "admin",
            "token",
            "--store",
            &store,
            "--secret-key-file",
            key.to_str().expect("utf-8"),
        ])
        .output()
        .expect("admin token");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let site = Site {
        gw,
        gateway,
        management,
        portal: format!("http://{portal}"),
        token,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        _backend: backend,
        _dir: dir,
    };
    // An API imported from the OpenAPI Initiative's petstore-expanded example, in both products.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../admin/tests/data/petstore-expanded.json"
    ))
    .expect("petstore");
    let (status, body) = site
        .call(
            reqwest::Method::PUT,
            "apis/petstore",
            Some(json!({"properties": {"format": "openapi+json", "value": doc, "path": "petstore", "serviceUrl": site._backend.url()}})),
        )
        .await;
    assert!(status.is_success(), "import: {status} {body}");
    for p in ["starter", "gold"] {
        let (status, body) = site
            .call(
                reqwest::Method::PUT,
                &format!("products/{p}/apis/petstore"),
                None,
            )
            .await;
        assert!(status.is_success(), "link {p}: {status} {body}");
    }
    site
}

/// Fails with the page's text and the node's log when `text` does not appear.
async fn see(b: &Browser, site: &Site, text: &str) -> String {
    match b.wait_for_text(text, WAIT).await {
        Ok(t) => t,
        Err(e) => panic!("{e:#}\n--- node log ---\n{}", site.gw.logs_text()),
    }
}

/// Waits until the browser is on a URL containing `part` (after a form's submission).
async fn wait_url(b: &Browser, part: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let url = b.current_url().await.expect("url");
        if url.contains(part) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still on {url}, waiting for {part}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn shot(b: &Browser, name: &str) {
    let path = b.screenshot(name).await.expect("screenshot");
    let bytes = std::fs::read(&path).expect("read screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", path.display());
}

async fn sign_in(b: &Browser, site: &Site, password: &str) {
    b.goto(&format!("{}/signin", site.portal))
        .await
        .expect("signin page");
    b.fill("E-mail", EMAIL).await.expect("email");
    b.fill("Password", password).await.expect("password");
    b.click_button("Sign in").await.expect("submit");
}

/// The subscription cards of the profile page: (element id without `sub-`, card text).
async fn cards(b: &Browser) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for el in b
        .client()
        .find_all(Locator::Css("li.subscription"))
        .await
        .expect("cards")
    {
        let id = el.attr("id").await.expect("id").unwrap_or_default();
        out.push((
            id.trim_start_matches("sub-").to_string(),
            el.text().await.expect("text"),
        ));
    }
    out
}

async fn click_in(b: &Browser, css: &str) {
    b.client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .expect("click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_developer_journey_in_a_real_browser() {
    let Some(b) = Browser::start_or_skip("the_developer_journey_in_a_real_browser").await else {
        return;
    };
    let smtp = SmtpSink::start().await.expect("smtp sink");
    let site = start(&smtp).await;

    // The portal's title and colours, set through the management API (APIM's portal settings).
    let (status, body) = site
        .call(
            reqwest::Method::PUT,
            "gatehouse/portal",
            Some(json!({"properties": {"title": "Contoso APIs", "description": "Everything Contoso offers", "colors": {"primary": "#6b2fb3"}}})),
        )
        .await;
    assert!(status.is_success(), "portal settings: {status} {body}");
    let theme = site
        .http
        .get(format!("{}/theme.css", site.portal))
        .send()
        .await
        .expect("theme");
    assert!(
        theme
            .text()
            .await
            .expect("css")
            .contains("--primary: #6b2fb3;")
    );

    // Anonymous: the home page lists the product shown to guests, not Gold.
    b.goto(&site.portal).await.expect("home");
    let home = see(&b, &site, "Starter").await;
    assert!(!home.contains("Gold"), "{home}");
    assert!(
        home.contains("Contoso APIs") && home.contains("Everything Contoso offers"),
        "{home}"
    );
    shot(&b, "01-home-anonymous").await;
    // On a phone's width the layout fits: no horizontal scroll.
    b.client().set_window_size(390, 844).await.expect("resize");
    b.goto(&format!("{}/apis/petstore", site.portal))
        .await
        .expect("api page");
    see(&b, &site, "findPets").await;
    let fits = b
        .client()
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .expect("measure");
    if fits != Value::Bool(true) {
        let wide = b
            .client()
            .execute(
                "var w = window.innerWidth; return Array.from(document.querySelectorAll('body *')).filter(function (e) { return e.getBoundingClientRect().right > w + 1; }).slice(0, 8).map(function (e) { return e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').slice(0, 40); });",
                vec![],
            )
            .await
            .expect("measure");
        panic!("the page scrolls sideways at 390 px: wider than the window: {wide}");
    }
    shot(&b, "01b-api-phone-width").await;
    b.client().set_window_size(1280, 900).await.expect("resize");

    // Sign up; the account waits for its confirmation.
    b.goto(&format!("{}/signup", site.portal))
        .await
        .expect("signup");
    for (label, value) in [
        ("E-mail", EMAIL),
        ("Password (at least 8 characters)", PASSWORD),
        ("First name", "Ann"),
        ("Last name", "Lee"),
    ] {
        b.fill(label, value)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e:#}"));
    }
    shot(&b, "02-signup-filled").await;
    b.click_button("Sign up").await.expect("sign up");
    see(&b, &site, "Check your e-mail").await;
    shot(&b, "03-signup-check-your-mail").await;
    // Not yet confirmed: signing in is refused.
    sign_in(&b, &site, PASSWORD).await;
    see(&b, &site, "Confirm your e-mail first").await;

    // The e-mail's link confirms the account and signs in.
    let mail = smtp.wait_for(EMAIL, WAIT).await.expect("confirmation mail");
    let link = mail
        .body_text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/confirm?token=", site.portal)))
        .unwrap_or_else(|| panic!("no link in {:?}", mail.body_text))
        .to_string();
    b.goto(&link).await.expect("confirm");
    see(&b, &site, "Your e-mail address is confirmed").await;
    shot(&b, "04-confirmed-profile").await;

    // Sign out; a wrong password is refused with the generic message; the right one works.
    b.click_button("Sign out").await.expect("sign out");
    see(&b, &site, "Sign in").await;
    sign_in(&b, &site, "not-the-password").await;
    see(&b, &site, "The e-mail address or the password is wrong.").await;
    shot(&b, "05-wrong-password").await;

    // Forgot the password: the reset link comes by e-mail, sets a new one and signs in.
    click_in(&b, "a[href='/reset']").await;
    see(&b, &site, "Send the link").await;
    b.fill("E-mail", EMAIL).await.expect("email");
    b.click_button("Send the link").await.expect("send");
    see(&b, &site, "If an account exists").await;
    let mail = smtp.wait_for(EMAIL, WAIT).await.expect("reset mail");
    let reset = mail
        .body_text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/reset/confirm?token=", site.portal)))
        .unwrap_or_else(|| panic!("no link in {:?}", mail.body_text))
        .to_string();
    b.goto(&reset).await.expect("reset form");
    b.fill("New password (at least 8 characters)", NEW_PASSWORD)
        .await
        .expect("new password");
    b.fill("New password again", NEW_PASSWORD)
        .await
        .expect("again");
    shot(&b, "05b-reset-password").await;
    b.click_button("Set the password").await.expect("set");
    see(&b, &site, "Your new password is set").await;
    // The old password no longer works; the new one does.
    b.click_button("Sign out").await.expect("sign out");
    see(&b, &site, "Sign in").await;
    sign_in(&b, &site, PASSWORD).await;
    see(&b, &site, "The e-mail address or the password is wrong.").await;
    sign_in(&b, &site, NEW_PASSWORD).await;
    see(&b, &site, "Your subscriptions").await;

    // Find the imported API by name and read its operations.
    b.goto(&format!("{}/apis", site.portal))
        .await
        .expect("apis");
    b.fill("Search APIs", "swagger petstore")
        .await
        .expect("search");
    b.click_button("Search").await.expect("search");
    // The results page (its URL carries the query): one API.
    wait_url(&b, "q=swagger+petstore").await;
    see(&b, &site, "1 API").await;
    click_in(&b, "li.api h3 a").await;
    let api = see(&b, &site, "/pets/{id}").await;
    for shown in ["findPets", "addPet", "deletePet", "Base URL"] {
        assert!(api.contains(shown), "the API page shows {shown}:\n{api}");
    }
    shot(&b, "06-api-operations").await;

    // Subscribe to Starter from its page; the key is hidden until shown.
    b.goto(&format!("{}/products/starter", site.portal))
        .await
        .expect("product");
    b.fill("Subscription name", "Ann's app")
        .await
        .expect("name");
    b.click_button("Subscribe").await.expect("subscribe");
    let profile = see(&b, &site, "Subscribed").await;
    assert!(
        profile.contains("Ann's app") && profile.contains("active"),
        "{profile}"
    );
    shot(&b, "07-subscribed-keys-hidden").await;
    b.click_button("Show keys").await.expect("show");
    see(&b, &site, "Primary key").await;
    let key = b
        .text_of(".primary-key")
        .await
        .expect("key")
        .trim()
        .to_string();
    assert_eq!(key.len(), 32, "{key}");
    shot(&b, "08-keys-shown").await;
    site.wait_gateway(&key, 200).await;

    // Try it in the console: the backend's 200 through the gateway, with the key.
    b.goto(&format!("{}/apis/petstore", site.portal))
        .await
        .expect("api page");
    b.fill("Request path (after the base URL)", "/pets?limit=2")
        .await
        .expect("path");
    b.click_button("Send").await.expect("send");
    let answer = see(&b, &site, "200 OK").await;
    assert!(
        answer.contains("\"path\""),
        "the echo backend's JSON is shown:\n{answer}"
    );
    assert!(
        !answer.contains(&key),
        "the key is not shown by the console"
    );
    shot(&b, "09-console-200").await;

    // Regenerate the primary key: the old one gets 401 at the gateway, the new one works.
    b.goto(&format!("{}/profile", site.portal))
        .await
        .expect("profile");
    see(&b, &site, "Your subscriptions").await;
    b.click_button("Show keys").await.expect("show");
    see(&b, &site, "Regenerate primary key").await;
    b.click_button("Regenerate primary key")
        .await
        .expect("regenerate");
    see(&b, &site, "A new primary key was made").await;
    let fresh = b
        .text_of(".primary-key")
        .await
        .expect("new key")
        .trim()
        .to_string();
    assert_ne!(fresh, key);
    shot(&b, "10-key-regenerated").await;
    site.wait_gateway(&key, 401).await;
    site.wait_gateway(&fresh, 200).await;

    // Gold requires approval: submitted until approved through the management API.
    b.goto(&format!("{}/products/gold", site.portal))
        .await
        .expect("gold");
    b.fill("Subscription name", "Gold app").await.expect("name");
    b.click_button("Subscribe").await.expect("subscribe");
    see(
        &b,
        &site,
        "becomes active when an administrator approves it",
    )
    .await;
    let (gold_id, text) = cards(&b)
        .await
        .into_iter()
        .find(|(_, t)| t.contains("Gold app"))
        .expect("gold card");
    assert!(text.contains("submitted"), "{text}");
    click_in(&b, &format!("#sub-{gold_id} form[action*='/show'] button")).await;
    see(&b, &site, "Primary key").await;
    let gold_key = b
        .text_of(&format!("#sub-{gold_id} .primary-key"))
        .await
        .expect("gold key")
        .trim()
        .to_string();
    shot(&b, "11-approval-submitted").await;
    // The gateway answers 403 for a key of a subscription that is not active (crates/gateway/src/keys.rs).
    assert_eq!(
        site.gateway_status(&gold_key).await,
        403,
        "a submitted subscription's key does not work"
    );
    let (status, body) = site
        .call(
            reqwest::Method::PATCH,
            &format!("subscriptions/{gold_id}"),
            Some(json!({"properties": {"state": "active"}})),
        )
        .await;
    assert!(status.is_success(), "approve: {status} {body}");
    site.wait_gateway(&gold_key, 200).await;

    // Cancel it from the profile: its keys stop working (403 at the gateway).
    b.goto(&format!("{}/profile", site.portal))
        .await
        .expect("profile");
    see(&b, &site, "Your subscriptions").await;
    click_in(
        &b,
        &format!("#sub-{gold_id} form[action$='/cancel'] button"),
    )
    .await;
    see(&b, &site, "The subscription was cancelled").await;
    site.wait_gateway(&gold_key, 403).await;

    // A missing CSRF token: the form is refused and nothing changes.
    b.goto(&format!("{}/products/starter", site.portal))
        .await
        .expect("product");
    b.client()
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(function (e) { e.remove(); });",
            vec![],
        )
        .await
        .expect("remove the token");
    b.fill("Subscription name", "Forged").await.expect("name");
    b.click_button("Subscribe").await.expect("subscribe");
    see(&b, &site, "Security check failed").await;
    shot(&b, "12-missing-csrf").await;
    let (_, subs) = site.call(reqwest::Method::GET, "subscriptions", None).await;
    assert!(
        !subs.to_string().contains("Forged"),
        "nothing was subscribed: {subs}"
    );

    // Block the user through the management API: the session ends, signing in is refused, and
    // the user's keys stop working at the gateway.
    let (status, users) = site.call(reqwest::Method::GET, "users", None).await;
    assert!(status.is_success(), "{users}");
    let uid = users["value"]
        .as_array()
        .and_then(|v| v.iter().find(|u| u["properties"]["email"] == EMAIL))
        .and_then(|u| u["name"].as_str())
        .expect("the user is listed")
        .to_string();
    let (status, body) = site
        .call(
            reqwest::Method::PATCH,
            &format!("users/{uid}"),
            Some(json!({"properties": {"state": "blocked"}})),
        )
        .await;
    assert!(status.is_success(), "block: {status} {body}");
    let blocked = support::wait_for_status(
        "/petstore/pets",
        403,
        WAIT,
        || site.gateway_status(&fresh),
        || site.gw.logs_text(),
    )
    .await;
    let _ = blocked;
    b.goto(&format!("{}/profile", site.portal))
        .await
        .expect("profile");
    see(&b, &site, "Sign in").await;
    sign_in(&b, &site, NEW_PASSWORD).await;
    see(&b, &site, "This account is blocked").await;
    shot(&b, "13-blocked").await;
    b.close().await.expect("close the browser");
}
