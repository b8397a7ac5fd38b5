//! Sign-in attempts limited per account and per source address: 5 failures of one account and
//! 20 failures from one address per 15 minutes, then 429 until the window ends. Counters live in
//! `moka` caches bounded in size (an attacker spraying addresses or e-mails evicts old counters
//! rather than growing memory); each counter remembers when its window started, so updating it
//! does not extend the window.

use moka::sync::Cache;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const PER_ACCOUNT: u32 = 5;
pub const PER_SOURCE: u32 = 20;
/// Counters kept at most (per kind).
const CAPACITY: u64 = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

pub struct SigninLimits {
    accounts: Cache<String, Window>,
    sources: Cache<IpAddr, Window>,
}

impl Default for SigninLimits {
    fn default() -> Self {
        SigninLimits {
            accounts: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(WINDOW)
                .build(),
            sources: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(WINDOW)
                .build(),
        }
    }
}

/// Which limit a sign-in ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Account,
    Source,
}

fn failures(w: Option<Window>, now: Instant) -> u32 {
    match w {
        Some(w) if now.saturating_duration_since(w.started) < WINDOW => w.failures,
        _ => 0,
    }
}

impl SigninLimits {
    /// `account` is the e-mail as typed, lowercased (also for unknown e-mails, so a limited
    /// address says nothing about whether an account exists).
    pub fn check(
        &self,
        account: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Limited> {
        if failures(self.accounts.get(account), now) >= PER_ACCOUNT {
            return Err(Limited::Account);
        }
        if let Some(ip) = source
            && failures(self.sources.get(&ip), now) >= PER_SOURCE
        {
            return Err(Limited::Source);
        }
        Ok(())
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, account: &str, source: Option<IpAddr>, now: Instant) {
        let bump = |old: Option<Window>| match old {
            Some(w) if now.saturating_duration_since(w.started) < WINDOW => Window {
                started: w.started,
                failures: w.failures.saturating_add(1),
            },
            _ => Window {
                started: now,
                failures: 1,
            },
        };
        self.accounts
            .entry(account.to_string())
            .and_upsert_with(|e| bump(e.map(|e| *e.value())));
        if let Some(ip) = source {
            self.sources
                .entry(ip)
                .and_upsert_with(|e| bump(e.map(|e| *e.value())));
        }
    }

    /// A successful sign-in clears the account's failures (the source's stay: one address
    /// guessing many accounts is still counted).
    pub fn succeeded(&self, account: &str) {
        self.accounts.invalidate(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_account_for_the_window() {
        let l = SigninLimits::default();
        let t = Instant::now();
        for _ in 0..PER_ACCOUNT {
            assert_eq!(l.check("a@x.io", None, t), Ok(()));
            l.failed("a@x.io", None, t);
        }
        assert_eq!(l.check("a@x.io", None, t), Err(Limited::Account));
        assert_eq!(
            l.check("b@x.io", None, t),
            Ok(()),
            "other accounts unaffected"
        );
        // Failing again inside the window does not move its start.
        l.failed("a@x.io", None, t + Duration::from_secs(600));
        assert_eq!(l.check("a@x.io", None, t + WINDOW), Ok(()));
    }

    #[test]
    fn twenty_failures_from_one_address_lock_the_address() {
        let l = SigninLimits::default();
        let t = Instant::now();
        let ip: IpAddr = [192, 0, 2, 1].into();
        for i in 0..PER_SOURCE {
            l.failed(&format!("u{i}@x.io"), Some(ip), t);
        }
        assert_eq!(l.check("new@x.io", Some(ip), t), Err(Limited::Source));
        assert_eq!(l.check("new@x.io", Some([192, 0, 2, 2].into()), t), Ok(()));
        assert_eq!(l.check("new@x.io", None, t), Ok(()));
    }

    #[test]
    fn success_clears_the_account() {
        let l = SigninLimits::default();
        let t = Instant::now();
        for _ in 0..PER_ACCOUNT {
            l.failed("a@x.io", None, t);
        }
        l.succeeded("a@x.io");
        assert_eq!(l.check("a@x.io", None, t), Ok(()));
    }
}
