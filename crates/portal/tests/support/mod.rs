//! Test fixtures for the portal's integration tests: an in-memory Backing, the model's
//! validation as the Checker, a browser-like client (cookies, the CSRF field of forms) that
//! drives the router with `tower::ServiceExt::oneshot`, and a scripted SMTP sink on a local
//! TcpListener that hands every message it receives to the test.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use gatehouse_admin::{AccessKeys, Backing, BackingError, Checker, Current};
use gatehouse_model::{Config, Secret, User};
use gatehouse_portal::{Mailer, PortalOptions};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// An in-memory store with optimistic concurrency.
pub struct Memory {
    pub state: Mutex<(Config, u64)>,
}

fn poisoned(e: impl ToString) -> BackingError {
    BackingError::Store(e.to_string().into())
}

#[async_trait::async_trait]
impl Backing for Memory {
    async fn current(&self) -> Result<Current, BackingError> {
        let s = self.state.lock().map_err(poisoned)?;
        Ok(Current {
            config: Arc::new(s.0.clone()),
            revision: s.1,
        })
    }
    async fn commit(
        &self,
        config: Config,
        expected: u64,
        _: &str,
        _: &str,
    ) -> Result<u64, BackingError> {
        let mut s = self.state.lock().map_err(poisoned)?;
        if s.1 != expected {
            return Err(BackingError::Conflict { current: s.1 });
        }
        *s = (config, expected + 1);
        Ok(s.1)
    }
    async fn access_keys(&self) -> Result<AccessKeys, BackingError> {
        Ok(AccessKeys {
            primary: Secret::new("p"),
            secondary: Secret::new("s"),
        })
    }
    async fn set_access_keys(&self, _: AccessKeys) -> Result<(), BackingError> {
        Ok(())
    }
}

impl Memory {
    pub fn new(config: Config) -> Memory {
        Memory {
            state: Mutex::new((config, 1)),
        }
    }
    pub fn config(&self) -> Config {
        self.state.lock().expect("not poisoned").0.clone()
    }
    pub fn edit(&self, f: impl FnOnce(&mut Config)) {
        let mut s = self.state.lock().expect("not poisoned");
        f(&mut s.0);
        s.1 += 1;
    }
    pub fn user(&self, email: &str) -> Option<User> {
        self.config().users.into_iter().find(|u| u.email == email)
    }
}

/// The model's validation, errors only (as the CLI's checker before policy compilation).
pub fn checker() -> Checker {
    gatehouse_admin::model_checker()
}

pub struct Site {
    pub router: axum::Router,
    pub backing: Arc<Memory>,
}

pub const PUBLIC_URL: &str = "http://portal.test";

/// A portal over a config whose service is `shop`, with `mailer` (None: no SMTP).
pub fn site(mailer: Option<Mailer>) -> Site {
    let mut config = Config::default();
    config.service.name = "shop".into();
    let backing = Arc::new(Memory {
        state: Mutex::new((config, 1)),
    });
    let router = PortalOptions {
        backing: backing.clone(),
        checker: checker(),
        signing_key: [9u8; 32],
        gateway_url: None,
        public_url: PUBLIC_URL.into(),
        mailer,
        secure_cookies: false,
    }
    .router();
    Site { router, backing }
}

/// A user with `password` (hashed as sign-up hashes it).
pub async fn add_user(
    site: &Site,
    id: &str,
    email: &str,
    password: &str,
    state: gatehouse_model::UserState,
) {
    let hash = gatehouse_portal::accounts::password::hash(password.to_string())
        .await
        .expect("hashes");
    site.backing.edit(|c| {
        c.users.push(User {
            id: id.into(),
            email: email.into(),
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            state,
            password_hash: Some(hash),
        })
    });
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// One browser: its cookies, and the address it connects from (None: no connect info).
pub struct Browser {
    router: axum::Router,
    pub cookies: HashMap<String, String>,
    pub from: Option<SocketAddr>,
}

impl Browser {
    pub fn new(site: &Site) -> Browser {
        Browser {
            router: site.router.clone(),
            cookies: HashMap::new(),
            from: None,
        }
    }

    async fn send(&mut self, mut req: Request<Body>) -> Page {
        if let Some(addr) = self.from {
            req.extensions_mut().insert(ConnectInfo(addr));
        }
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let location = resp
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        for c in &set_cookies {
            let c = cookie::Cookie::parse(c.clone()).expect("a cookie");
            if c.max_age() == Some(cookie::time::Duration::ZERO) {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_string(), c.value().to_string());
            }
        }
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        Page {
            status,
            location,
            set_cookies,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = Request::get(path)
            .header(http::header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("request");
        self.send(req).await
    }

    /// POSTs `fields` as a form, without adding the CSRF field.
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::post(path)
            .header(http::header::COOKIE, self.cookie_header())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// POSTs `fields` with the CSRF token a page of the portal gives this browser (as a form
    /// the user filled in would).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// The hidden `csrf` input of a page: the sign-in form, or the profile once signed in.
    pub async fn csrf(&mut self) -> String {
        for path in ["/signin", "/profile"] {
            let page = self.get(path).await;
            if let Some(t) = hidden(&page.body, "csrf") {
                return t;
            }
        }
        panic!("no page carries a CSRF token");
    }

    pub fn signed_in(&self) -> bool {
        self.cookies.contains_key("gh_session")
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A scripted SMTP server on a local port: it accepts every message and sends its text (headers
/// and body) to the returned channel. Only what lettre speaks without TLS or auth.
pub async fn smtp_sink() -> (Mailer, mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds a local port");
    let port = listener.local_addr().expect("has an address").port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            let _ = w.write_all(b"354 go on\r\n").await;
                            let mut message = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                message.push_str(&l);
                                message.push('\n');
                            }
                            let _ = tx.send(message);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    let mailer = Mailer::new(
        &format!("smtp://127.0.0.1:{port}"),
        "Portal <portal@example.com>",
    )
    .expect("a mailer");
    (mailer, rx)
}

/// The body of a quoted-printable message as a mail reader shows it (lettre encodes long lines
/// so): soft line breaks joined, `=XX` decoded.
pub fn unquote(message: &str) -> String {
    let joined = message.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path and query of the portal link in `message` that starts with `path`.
pub fn link(message: &str, path: &str) -> String {
    let message = &unquote(message);
    let prefix = format!("{PUBLIC_URL}{path}?token=");
    let start = message.find(&prefix).expect("the message has the link") + PUBLIC_URL.len();
    let end = message[start..]
        .find(char::is_whitespace)
        .map_or(message.len(), |e| start + e);
    message[start..end].to_string()
}
