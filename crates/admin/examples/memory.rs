//! The management API over an in-memory store, for trying it out and for running
//! schemathesis against it (docs/management.md): `cargo run -p gatehouse-admin --example memory
//! -- [PORT]` serves 127.0.0.1:PORT (default 8081) and prints a one-hour token.

// The in-memory Backing, Checker and Node are the integration tests' fixtures: one copy, and
// test-only code (fault injection, a dev-dependency on gatehouse-policy) stays out of the crate.
#[path = "../tests/support/mod.rs"]
mod support;

use gatehouse_admin::ManagementApi;
use std::sync::Arc;
use support::{FakeNode, Memory, checker, config, keys, token};
use time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(8081);
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| e.to_string())?;
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let backing = Arc::new(Memory::new(
        config("contoso"),
        1,
        keys(&key, &format!("{key}-secondary")),
    ));
    let api = ManagementApi {
        service_name: "contoso".into(),
        backing,
        checker: checker(),
        node: Arc::new(FakeNode),
    };
    let token = token("example", &key, Duration::hours(1));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("{token}");
    axum::serve(listener, api.router()).await?;
    Ok(())
}
