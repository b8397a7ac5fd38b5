//! Waiting for something a test server counts (requests, queries) to reach a number.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// Polls `seen` every 10 ms until `count(&value) >= n`, and returns that value; after
/// `timeout` fails with "`what`: expected `n` `noun` within `timeout`, got `count`".
pub(crate) async fn until_count<T>(
    n: usize,
    timeout: Duration,
    what: &str,
    noun: &str,
    mut seen: impl FnMut() -> T,
    count: impl Fn(&T) -> usize,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let value = seen();
        let got = count(&value);
        if got >= n {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            bail!("{what}: expected {n} {noun} within {timeout:?}, got {got}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
