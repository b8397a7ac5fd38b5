//! Name resolution for backends (docs/network.md, issue 4 "DNS"): private zones first, then the
//! configured DNS servers (or the system's), behind a cache that honours TTLs within a floor and
//! a ceiling and never makes a request wait on an entry it already had.
//!
//! The resolver only *finds* addresses. Whether an address may be reached is the egress guard's
//! business: it judges the addresses returned here and connects to the one it judged, so a
//! rebinding answer (a public address, then 127.0.0.1) is reported faithfully, never filtered.
//!
//! # Private zones
//!
//! Like an Azure private DNS zone linked to the virtual network: the longest configured zone
//! that is a suffix of the name answers, and a name under a zone is **never** forwarded to a
//! server — a name missing from the zone is `NotFound`, as Azure answers NXDOMAIN for it.
//! Records are A, AAAA and CNAME, keyed by a name relative to the zone (`@` is the apex).
//! A wildcard `*` (or `*.sub`) matches one or more labels below it when no exact record exists;
//! the closest wildcard wins, and an existing name between the wildcard and the asked name does
//! not block it (simpler than RFC 4592's closest-encloser rule, and what users expect of a
//! short list of overrides). CNAMEs are followed within the zones and, when the target is
//! outside every zone, through the servers; loops are detected and chains are limited to
//! [`MAX_CNAME_DEPTH`] names. CNAME values are absolute names (a trailing dot is optional).
//! When a record has both addresses and a CNAME (DNS forbids it), the addresses are used.
//!
//! Private-zone answers skip the cache: they are a hash lookup in memory, always current after
//! a config change, and reported with the fixed TTL [`PRIVATE_ZONE_TTL`]. Only the part of a
//! chain that leaves the zones (a CNAME to a public name) goes through the cache; such an answer
//! carries the source of that part (server, cache...), the zone's CNAMEs first in its
//! `cname_chain`, and a TTL no longer than [`PRIVATE_ZONE_TTL`].
//!
//! With the system configuration, hickory applies `/etc/resolv.conf`'s search list to names
//! with fewer dots than `ndots`; a search domain equal to a private zone would send such a
//! short name to the system's server under the zone (configured servers get fully-qualified
//! names and are not affected).
//!
//! # Cache
//!
//! Keyed by the normalised name, with A and AAAA together. The TTL of a positive answer is the
//! smallest TTL of its records (CNAMEs included), clamped to `[min_ttl_seconds,
//! max_ttl_seconds]`. NXDOMAIN and "no A/AAAA records" are cached for `negative_ttl_seconds`.
//! SERVFAIL, REFUSED, timeouts and I/O errors are not cached: they say nothing about the name,
//! and the next request should try again. A TTL that is zero after clamping is not cached.
//!
//! An expired positive entry is returned at once (source [`Source::CacheStale`]) and one
//! refresh per name is started in the background (stale-while-revalidate). A refresh that
//! fails keeps the stale entry and is not retried for [`REFRESH_RETRY`]; once the stale window
//! (`max_ttl_seconds` past expiry) has passed too, the entry is not used and a request resolves
//! in the foreground, so errors surface. An expired *negative* entry is never served stale: a
//! name that starts to exist should be seen at once. A refresh that gets NXDOMAIN replaces the
//! entry with a negative one (the name is gone, authoritatively).
//!
//! At most `max_entries` names are kept: when full, dead entries (past their stale window) go
//! first, then the oldest insertion. A hit takes a read lock and copies the name and addresses
//! out (two small allocations); nothing in the map is written on a hit, so hits on many threads
//! share the lock instead of queueing on it.
//!
//! # Upstream
//!
//! hickory-resolver with `dns.servers` (IP or IP:PORT, port 53 by default; UDP, and TCP when an
//! answer is truncated), else the system configuration (`/etc/resolv.conf`, search domains and
//! `/etc/hosts` included). hickory's own cache is disabled (we cache, with our rules). A and AAAA
//! are asked in parallel; `dns.timeout_ms` bounds each try and `dns.attempts` is the number of
//! tries, so a silent server costs at most `timeout_ms × attempts` (enforced again here). Names
//! sent to configured servers are fully qualified: no search list, one query per type (hickory
//! itself resends a UDP query unanswered after 333 ms, and asks two servers at once when
//! several are configured).

use gatehouse_model::network::{Dns, PrivateZone};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// TTL reported for private-zone answers. They are not cached (see the module docs); the figure
/// tells a caller holding on to an answer how long it may assume it current — short, because a
/// config change can alter a zone at any moment.
pub const PRIVATE_ZONE_TTL: Duration = Duration::from_secs(10);

/// Longest CNAME chain followed (names after the asked one), in zones and across to servers.
pub const MAX_CNAME_DEPTH: usize = 8;

/// After a failed background refresh, the stale entry is served this long before another
/// refresh is tried: a dead DNS server must not get one query per request.
pub const REFRESH_RETRY: Duration = Duration::from_secs(1);

/// `timeout_ms` / `attempts` used when the config gives none (or zero): the model's defaults.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(2_000);
const DEFAULT_ATTEMPTS: u32 = 2;
/// Grace on top of `timeout × attempts` before our own guard fires: hickory's timers normally
/// answer first, with a more precise error.
const GUARD_SLACK: Duration = Duration::from_millis(100);
const MAX_NAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A private zone answered (the zone that held the addresses).
    PrivateZone { zone: String },
    /// A configured DNS server answered. hickory doesn't say which of several servers did, so
    /// with more than one this is the list, comma-separated.
    Server { server: String },
    /// The cache, within the TTL.
    Cache,
    /// The cache, past the TTL but within the stale window; a refresh is under way.
    CacheStale,
    /// The host was an IP address.
    Literal,
    /// The system resolver (no `dns.servers` configured).
    System,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::PrivateZone { zone } => write!(f, "private zone {zone}"),
            Source::Server { server } => write!(f, "DNS server {server}"),
            Source::Cache => f.write_str("cache"),
            Source::CacheStale => f.write_str("cache (stale, refreshing)"),
            Source::Literal => f.write_str("IP literal"),
            Source::System => f.write_str("system resolver"),
        }
    }
}

/// A resolved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The name as asked, lowercased, without a trailing dot (an IP literal in its canonical
    /// form, without brackets).
    pub name: String,
    /// In answer order (A before AAAA), without duplicates; never empty.
    pub addrs: Vec<IpAddr>,
    pub source: Source,
    /// How long the answer stays current: the cached TTL left, [`PRIVATE_ZONE_TTL`] for a
    /// private zone, zero for a stale entry, `Duration::MAX` for an IP literal.
    pub ttl_left: Duration,
    /// The CNAME targets followed, in order (empty when the name held addresses itself).
    pub cname_chain: Vec<String>,
}

/// Why a name did not resolve. Every message names the name and, where known, who answered
/// (`server`: a DNS server, the system resolver or a private zone): it ends up in the log line
/// of a refused backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// NXDOMAIN, or a name under a private zone that the zone doesn't hold.
    #[error("DNS name '{name}' does not exist (NXDOMAIN from {server})")]
    NotFound { name: String, server: String },
    /// The name exists but has no A or AAAA record.
    #[error("DNS name '{name}' has no A or AAAA record (answer from {server})")]
    NoRecords { name: String, server: String },
    /// The server answered SERVFAIL, REFUSED or another error code.
    #[error("DNS server {server} failed to resolve '{name}': {detail}")]
    ServerFailure {
        name: String,
        server: String,
        detail: String,
    },
    /// No answer within `timeout_ms × attempts`.
    #[error("DNS lookup of '{name}' timed out after {} ms (server {server})", after.as_millis())]
    Timeout {
        name: String,
        server: String,
        after: Duration,
    },
    /// Not a host name this resolver accepts (empty, too long, bad characters; IDNs must be
    /// given in their `xn--` form).
    #[error("invalid DNS name '{name}': {reason}")]
    InvalidName { name: String, reason: String },
    /// A CNAME chain came back to a name already in it.
    #[error("CNAME loop resolving '{name}': {}", chain.join(" -> "))]
    CnameLoop { name: String, chain: Vec<String> },
    /// A CNAME chain longer than [`MAX_CNAME_DEPTH`].
    #[error("CNAME chain of '{name}' is longer than {max} names")]
    CnameTooDeep { name: String, max: usize },
    /// The server could not be reached or sent something unusable (connection refused, bad
    /// packet...).
    #[error("DNS lookup of '{name}' through {server} failed: {detail}")]
    Io {
        name: String,
        server: String,
        detail: String,
    },
    /// No DNS server to ask: none configured and the system configuration is unreadable.
    #[error("no DNS server to resolve '{name}': {detail}")]
    NoServer { name: String, detail: String },
    /// The `dns` section can't be used (a server address or a zone record that doesn't parse;
    /// validation normally refuses these first).
    #[error("invalid DNS configuration: {detail}")]
    Config { detail: String },
}

impl DnsError {
    /// A definitive answer about the name (cacheable, and it replaces a stale entry); anything
    /// else is a failure to get an answer.
    pub fn is_negative_answer(&self) -> bool {
        matches!(self, DnsError::NotFound { .. } | DnsError::NoRecords { .. })
    }
}

/// The gateway's resolver for one network configuration. Cheap to clone and share: the state
/// (zones, upstream client, cache) is behind one `Arc`, so every clone sees the same cache.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field(
                "upstream",
                &self.inner.upstream.as_ref().map(|u| u.label.as_str()),
            )
            .field("zones", &self.inner.zones.by_name.len())
            .field("cached", &self.inner.read_cache().len())
            .finish()
    }
}

impl Resolver {
    /// From the config: `dns.servers` when given (IP or IP:PORT, UDP with TCP fallback), else
    /// the system configuration (`/etc/resolv.conf`); private zones answered first for names
    /// under them. Without a `dns` section the cache defaults apply.
    ///
    /// An unreadable system configuration is not an error here (a gateway whose backends are IP
    /// literals or private-zone names must still start): it is logged, and names that need a
    /// server then fail with [`DnsError::NoServer`].
    pub fn new(dns: Option<&Dns>) -> Result<Resolver, DnsError> {
        let default_dns;
        let dns = match dns {
            Some(d) => d,
            None => {
                default_dns = Dns::default();
                &default_dns
            }
        };
        let timeout = match dns.timeout_ms {
            0 => DEFAULT_TIMEOUT,
            ms => Duration::from_millis(ms),
        };
        let attempts = match dns.attempts {
            0 => DEFAULT_ATTEMPTS,
            n => n,
        };
        let zones = Zones::build(&dns.private_zones)?;
        let upstream = Upstream::build(&dns.servers, timeout, attempts)?;
        let c = &dns.cache;
        let min_ttl = Duration::from_secs(c.min_ttl_seconds.into());
        let max_ttl = Duration::from_secs(c.max_ttl_seconds.into()).max(min_ttl);
        Ok(Resolver {
            inner: Arc::new(Inner {
                zones,
                upstream,
                budget: timeout.saturating_mul(attempts),
                limits: Limits {
                    min_ttl,
                    max_ttl,
                    negative_ttl: Duration::from_secs(c.negative_ttl_seconds.into()),
                    stale_window: max_ttl,
                    max_entries: (c.max_entries as usize).max(1),
                },
                cache: RwLock::new(HashMap::new()),
                epoch: Instant::now(),
            }),
        })
    }

    /// Resolves a host name (or returns an IP literal as is, source `Literal`). Never waits on
    /// an entry it had: an expired cache entry is returned at once (source `CacheStale`) and
    /// refreshed in the background, within the stale window (`max_ttl_seconds` past expiry).
    pub async fn resolve(&self, host: &str) -> Result<Answer, DnsError> {
        self.inner.resolve(host, false).await
    }

    /// Same, bypassing the cache read (the answer is still written to the cache) — for
    /// `gatehouse net resolve --fresh`. Private zones are answered as always.
    pub async fn resolve_fresh(&self, host: &str) -> Result<Answer, DnsError> {
        self.inner.resolve(host, true).await
    }

    /// Forgets every cached answer (positive and negative). Refreshes under way still write
    /// their result when they finish.
    pub fn clear_cache(&self) {
        self.inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

struct Inner {
    zones: Zones,
    /// `None` when no server is configured and the system configuration is unreadable.
    upstream: Option<Upstream>,
    /// `timeout × attempts`: the longest a lookup may take.
    budget: Duration,
    limits: Limits,
    cache: RwLock<HashMap<Box<str>, CacheEntry>>,
    /// Origin of the nanosecond clock in [`CacheEntry::refresh_gate`].
    epoch: Instant,
}

struct Limits {
    min_ttl: Duration,
    max_ttl: Duration,
    negative_ttl: Duration,
    stale_window: Duration,
    max_entries: usize,
}

struct CacheEntry {
    value: Cached,
    inserted: Instant,
    /// Fresh until then; served stale (positive answers only) until `stale_until`.
    fresh_until: Instant,
    stale_until: Instant,
    /// Nanoseconds since `Inner::epoch` before which no background refresh may start: set
    /// when one starts (deduplication: one refresh per name) and after one fails (backoff).
    /// An atomic so that a reader holding only the read lock can claim the refresh.
    refresh_gate: AtomicU64,
}

enum Cached {
    Positive {
        addrs: Box<[IpAddr]>,
        cname_chain: Box<[String]>,
    },
    Negative(DnsError),
}

/// What the cache says about a name.
enum Lookup {
    Hit(Result<Answer, DnsError>),
    /// Stale answer served; `refresh` when this caller claimed the background refresh.
    Stale {
        answer: Answer,
        refresh: bool,
    },
    Miss,
}

/// A successful upstream answer.
struct Resolved {
    addrs: Vec<IpAddr>,
    cname_chain: Vec<String>,
    /// Smallest record TTL, unclamped.
    ttl: Duration,
    source: Source,
}

impl Inner {
    async fn resolve(self: &Arc<Self>, host: &str, fresh: bool) -> Result<Answer, DnsError> {
        if let Some(ip) = parse_literal(host) {
            return Ok(Answer {
                name: ip.to_string(),
                addrs: vec![ip],
                source: Source::Literal,
                ttl_left: Duration::MAX,
                cname_chain: Vec::new(),
            });
        }
        let name = normalise(host)?;
        match self.zones.walk(&name)? {
            ZoneWalk::NotInZone => self.external(&name, fresh).await,
            ZoneWalk::Answer { zone, addrs, chain } => Ok(Answer {
                name: name.into_owned(),
                addrs,
                source: Source::PrivateZone {
                    zone: zone.to_owned(),
                },
                ttl_left: PRIVATE_ZONE_TTL,
                cname_chain: chain,
            }),
            ZoneWalk::Leaves { mut chain, target } => {
                let mut ext = self.external(&target, fresh).await?;
                for next in ext.cname_chain.drain(..) {
                    if next == name || chain.contains(&next) {
                        chain.push(next);
                        return Err(DnsError::CnameLoop {
                            name: name.into_owned(),
                            chain,
                        });
                    }
                    chain.push(next);
                }
                if chain.len() > MAX_CNAME_DEPTH {
                    return Err(DnsError::CnameTooDeep {
                        name: name.into_owned(),
                        max: MAX_CNAME_DEPTH,
                    });
                }
                Ok(Answer {
                    name: name.into_owned(),
                    addrs: ext.addrs,
                    source: ext.source,
                    ttl_left: ext.ttl_left.min(PRIVATE_ZONE_TTL),
                    cname_chain: chain,
                })
            }
        }
    }

    /// A name outside every private zone: the cache, else the upstream servers.
    async fn external(self: &Arc<Self>, name: &str, fresh: bool) -> Result<Answer, DnsError> {
        if !fresh {
            match self.lookup_cache(name, Instant::now()) {
                Lookup::Hit(result) => return result,
                Lookup::Stale { answer, refresh } => {
                    if refresh {
                        self.spawn_refresh(name);
                    }
                    return Ok(answer);
                }
                Lookup::Miss => {}
            }
        }
        match self.query(name).await {
            Ok(resolved) => {
                let ttl = resolved.ttl.clamp(self.limits.min_ttl, self.limits.max_ttl);
                tracing::debug!(name, addrs = ?resolved.addrs, record_ttl = ?resolved.ttl, cached_for = ?ttl, source = %resolved.source, "DNS answer");
                let answer = Answer {
                    name: name.to_owned(),
                    addrs: resolved.addrs.clone(),
                    source: resolved.source,
                    ttl_left: ttl,
                    cname_chain: resolved.cname_chain.clone(),
                };
                self.store(
                    name,
                    Cached::Positive {
                        addrs: resolved.addrs.into(),
                        cname_chain: resolved.cname_chain.into(),
                    },
                    ttl,
                );
                Ok(answer)
            }
            Err(e) => {
                tracing::debug!(name, error = %e, "DNS lookup failed");
                if e.is_negative_answer() {
                    self.store(name, Cached::Negative(e.clone()), self.limits.negative_ttl);
                }
                Err(e)
            }
        }
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Box<str>, CacheEntry>> {
        // A panic while holding the lock leaves a map that is still consistent (every write
        // is a single insert/remove), so a poisoned lock is used as is.
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The hot path: one hash lookup under a read lock, no writes.
    fn lookup_cache(&self, name: &str, now: Instant) -> Lookup {
        let cache = self.read_cache();
        let Some(entry) = cache.get(name) else {
            return Lookup::Miss;
        };
        match &entry.value {
            Cached::Negative(e) if now < entry.fresh_until => Lookup::Hit(Err(e.clone())),
            Cached::Negative(_) => Lookup::Miss,
            Cached::Positive { addrs, cname_chain } => {
                let answer = |source, ttl_left| Answer {
                    name: name.to_owned(),
                    addrs: addrs.to_vec(),
                    source,
                    ttl_left,
                    cname_chain: cname_chain.to_vec(),
                };
                if now < entry.fresh_until {
                    Lookup::Hit(Ok(answer(Source::Cache, entry.fresh_until - now)))
                } else if now < entry.stale_until {
                    let refresh = self.claim_refresh(entry, now);
                    Lookup::Stale {
                        answer: answer(Source::CacheStale, Duration::ZERO),
                        refresh,
                    }
                } else {
                    Lookup::Miss
                }
            }
        }
    }

    fn nanos(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether this caller starts the background refresh of `entry`: true for exactly one
    /// caller until the refresh ends (its deadline is the lookup budget, plus slack) or, after
    /// a failure, until [`REFRESH_RETRY`] has passed.
    fn claim_refresh(&self, entry: &CacheEntry, now: Instant) -> bool {
        let now_ns = self.nanos(now);
        let gate = entry.refresh_gate.load(Ordering::Acquire);
        if now_ns < gate {
            return false;
        }
        let until = self.nanos(now + self.budget + GUARD_SLACK + REFRESH_RETRY);
        entry
            .refresh_gate
            .compare_exchange(gate, until, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn spawn_refresh(self: &Arc<Self>, name: &str) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // Not on a Tokio runtime: nothing to refresh with; the gate expires on its own.
            tracing::debug!(name, "no Tokio runtime: stale DNS entry not refreshed");
            return;
        };
        let inner = Arc::clone(self);
        let name = name.to_owned();
        handle.spawn(async move {
            tracing::debug!(name = %name, "refreshing stale DNS entry");
            match inner.query(&name).await {
                Ok(resolved) => {
                    let ttl = resolved.ttl.clamp(inner.limits.min_ttl, inner.limits.max_ttl);
                    inner.store(
                        &name,
                        Cached::Positive {
                            addrs: resolved.addrs.into(),
                            cname_chain: resolved.cname_chain.into(),
                        },
                        ttl,
                    );
                }
                Err(e) if e.is_negative_answer() => {
                    tracing::info!(name = %name, error = %e, "DNS refresh: name no longer resolves");
                    inner.store(&name, Cached::Negative(e), inner.limits.negative_ttl);
                }
                Err(e) => {
                    tracing::warn!(name = %name, error = %e, retry_in = ?REFRESH_RETRY, "DNS refresh failed; serving the stale answer");
                    let retry = inner.nanos(Instant::now() + REFRESH_RETRY);
                    if let Some(entry) = inner.read_cache().get(name.as_str()) {
                        entry.refresh_gate.store(retry, Ordering::Release);
                    }
                }
            }
        });
    }

    fn store(&self, name: &str, value: Cached, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let stale = match value {
            Cached::Positive { .. } => self.limits.stale_window,
            Cached::Negative(_) => Duration::ZERO,
        };
        let entry = CacheEntry {
            value,
            inserted: now,
            fresh_until: now + ttl,
            stale_until: now + ttl + stale,
            refresh_gate: AtomicU64::new(0),
        };
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= self.limits.max_entries && !cache.contains_key(name) {
            cache.retain(|_, e| e.stale_until > now);
            while cache.len() >= self.limits.max_entries {
                // O(entries), but only on a miss when the cache is full of live entries — a
                // path that already waited on the network.
                let oldest = cache
                    .iter()
                    .min_by_key(|(_, e)| e.inserted)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => cache.remove(&k),
                    None => break,
                };
            }
        }
        match cache.entry(name.into()) {
            MapEntry::Occupied(mut o) => *o.get_mut() = entry,
            MapEntry::Vacant(v) => {
                v.insert(entry);
            }
        }
    }

    /// Asks the servers for A and AAAA, in parallel, within the lookup budget.
    async fn query(&self, name: &str) -> Result<Resolved, DnsError> {
        let Some(up) = &self.upstream else {
            return Err(DnsError::NoServer {
                name: name.to_owned(),
                detail: "no dns.servers configured and the system configuration (/etc/resolv.conf) is unreadable".into(),
            });
        };
        let qname: Cow<'_, str> = if up.fqdn {
            Cow::Owned(format!("{name}."))
        } else {
            Cow::Borrowed(name)
        };
        let started = Instant::now();
        let both = async {
            tokio::join!(
                up.resolver.lookup(qname.as_ref(), RecordType::A),
                up.resolver.lookup(qname.as_ref(), RecordType::AAAA),
            )
        };
        let timeout = |after: Duration| DnsError::Timeout {
            name: name.to_owned(),
            server: up.label.clone(),
            after,
        };
        let Ok((a, aaaa)) = tokio::time::timeout(self.budget + GUARD_SLACK, both).await else {
            tracing::debug!(name, server = %up.label, "DNS lookup exceeded its budget");
            return Err(timeout(started.elapsed()));
        };
        let mut addrs = Vec::new();
        let mut cname_chain: Vec<String> = Vec::new();
        let mut ttl: Option<u32> = None;
        let mut errors = Vec::new();
        for result in [a, aaaa] {
            match result {
                Ok(lookup) => {
                    for record in lookup.answers() {
                        let ip = match &record.data {
                            RData::A(a) => Some(IpAddr::V4(a.0)),
                            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                            RData::CNAME(target) => {
                                let target = name_string(&target.0.to_string());
                                if !cname_chain.contains(&target) {
                                    cname_chain.push(target);
                                }
                                None
                            }
                            _ => continue,
                        };
                        ttl = Some(ttl.map_or(record.ttl, |t| t.min(record.ttl)));
                        if let Some(ip) = ip
                            && !addrs.contains(&ip)
                        {
                            addrs.push(ip);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if !addrs.is_empty() {
            // One family answering is enough (a v4-only backend has no AAAA); the other's
            // failure is only worth a debug line.
            for e in &errors {
                tracing::debug!(name, server = %up.label, error = %e, "one address family failed");
            }
            if cname_chain.len() > MAX_CNAME_DEPTH {
                return Err(DnsError::CnameTooDeep {
                    name: name.to_owned(),
                    max: MAX_CNAME_DEPTH,
                });
            }
            return Ok(Resolved {
                addrs,
                cname_chain,
                ttl: Duration::from_secs(ttl.unwrap_or(0).into()),
                source: up.source.clone(),
            });
        }
        // No address. A transient failure of either family wins over a negative answer of
        // the other (the name may well have addresses of that family): it is not cached.
        let mapped: Vec<DnsError> = errors
            .into_iter()
            .map(|e| map_error(name, &up.label, e, started.elapsed()))
            .collect();
        if let Some(e) = mapped.iter().find(|e| !e.is_negative_answer()) {
            return Err(e.clone());
        }
        if let Some(e) = mapped
            .iter()
            .find(|e| matches!(e, DnsError::NotFound { .. }))
        {
            return Err(e.clone());
        }
        Err(DnsError::NoRecords {
            name: name.to_owned(),
            server: up.label.clone(),
        })
    }
}

fn map_error(name: &str, server: &str, e: NetError, elapsed: Duration) -> DnsError {
    let name = name.to_owned();
    let server = server.to_owned();
    match e {
        NetError::Dns(HickoryDnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
            match response_code {
                ResponseCode::NXDomain => DnsError::NotFound { name, server },
                ResponseCode::NoError => DnsError::NoRecords { name, server },
                code => DnsError::ServerFailure {
                    name,
                    server,
                    detail: rcode_name(code),
                },
            }
        }
        NetError::Dns(HickoryDnsError::ResponseCode(code)) => DnsError::ServerFailure {
            name,
            server,
            detail: rcode_name(code),
        },
        NetError::Timeout => DnsError::Timeout {
            name,
            server,
            after: elapsed,
        },
        NetError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => DnsError::Timeout {
            name,
            server,
            after: elapsed,
        },
        other => DnsError::Io {
            name,
            server,
            detail: other.to_string(),
        },
    }
}

/// The mnemonic operators know from `dig` (`SERVFAIL`, `REFUSED`...).
fn rcode_name(code: ResponseCode) -> String {
    let mnemonic = match code {
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        other => return format!("response code {} ({})", u16::from(other), other.to_str()),
    };
    mnemonic.to_owned()
}

/// The hickory client and how to describe it.
struct Upstream {
    resolver: TokioResolver,
    /// `10.0.0.53:53`, or `system resolver (127.0.0.53:53)`.
    label: String,
    source: Source,
    /// Configured servers get fully-qualified names (no search list).
    fqdn: bool,
}

impl Upstream {
    fn build(
        servers: &[String],
        timeout: Duration,
        attempts: u32,
    ) -> Result<Option<Upstream>, DnsError> {
        let (config, mut opts, label, source, fqdn) = if servers.is_empty() {
            let (config, opts) = match hickory_resolver::system_conf::read_system_conf() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "no dns.servers and the system DNS configuration is unreadable: only IP literals and private-zone names will resolve");
                    return Ok(None);
                }
            };
            let list = server_list(config.name_servers());
            let label = format!("system resolver ({list})");
            (config, opts, label, Source::System, false)
        } else {
            let mut name_servers = Vec::with_capacity(servers.len());
            for s in servers {
                let addr = parse_server(s)?;
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                name_servers.push(NameServerConfig::new(addr.ip(), true, vec![udp, tcp]));
            }
            let label = server_list(&name_servers);
            let config = ResolverConfig::from_name_servers(name_servers);
            let mut opts = ResolverOpts::default();
            // The gateway's DNS is the config's: /etc/hosts is the host's business.
            opts.use_hosts_file = ResolveHosts::Never;
            let source = Source::Server {
                server: label.clone(),
            };
            (config, opts, label, source, true)
        };
        opts.timeout = timeout;
        // hickory counts retries after the first try; the config counts tries.
        opts.attempts = attempts.saturating_sub(1) as usize;
        // We cache (floor, ceiling, stale-while-revalidate); hickory's cache would hide
        // expiry from us. A capacity of 0 disables its map entirely.
        opts.cache_size = 0;
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        opts.preserve_intermediates = true;
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = opts;
        let resolver = builder.build().map_err(|e| DnsError::Config {
            detail: format!("building the DNS client: {e}"),
        })?;
        Ok(Some(Upstream {
            resolver,
            label,
            source,
            fqdn,
        }))
    }
}

fn server_list(servers: &[NameServerConfig]) -> String {
    let mut out = String::new();
    for ns in servers {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let port = ns.connections.first().map_or(53, |c| c.port);
        out.push_str(&SocketAddr::new(ns.ip, port).to_string());
    }
    if out.is_empty() {
        out.push_str("no servers");
    }
    out
}

fn parse_server(s: &str) -> Result<SocketAddr, DnsError> {
    let t = s.trim();
    if let Ok(sa) = t.parse::<SocketAddr>() {
        return Ok(sa);
    }
    t.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| DnsError::Config {
            detail: format!("invalid DNS server '{s}': expected IP or IP:PORT"),
        })
}

/// An IP address, bare or in URL brackets (`[::1]`).
fn parse_literal(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    let inner = host.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// Lowercase, without the trailing dot; borrowed when already so (the common case, and a cache
/// hit then allocates only for the answer).
fn normalise(host: &str) -> Result<Cow<'_, str>, DnsError> {
    let invalid = |reason: &str| DnsError::InvalidName {
        name: host.to_owned(),
        reason: reason.to_owned(),
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err(invalid("empty name"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid("longer than 253 characters"));
    }
    let mut label = 0usize;
    let mut upper = false;
    for b in name.bytes() {
        match b {
            b'.' => {
                if label == 0 {
                    return Err(invalid("empty label"));
                }
                label = 0;
                continue;
            }
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {}
            _ => {
                return Err(invalid(
                    "only letters, digits, '-' and '_' are allowed (IDNs in their xn-- form)",
                ));
            }
        }
        label += 1;
        if label > MAX_LABEL_LEN {
            return Err(invalid("a label is longer than 63 characters"));
        }
    }
    if label == 0 {
        return Err(invalid("empty label"));
    }
    Ok(if upper {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    })
}

/// A name from the wire or the config, as we key and report it.
fn name_string(s: &str) -> String {
    s.trim_end_matches('.').to_ascii_lowercase()
}

/// The private zones, indexed by zone name.
struct Zones {
    by_name: HashMap<Box<str>, Zone>,
}

#[derive(Default)]
struct Zone {
    /// Relative name (`""` for the apex) → records.
    exact: HashMap<Box<str>, RecordSet>,
    /// Wildcards by the name they are under: `""` for `*`, `sub` for `*.sub`.
    wild: HashMap<Box<str>, RecordSet>,
}

#[derive(Default)]
struct RecordSet {
    /// A then AAAA, as configured, without duplicates.
    addrs: Vec<IpAddr>,
    cname: Option<String>,
}

enum ZoneWalk<'a> {
    /// The name is under no zone: ask the servers.
    NotInZone,
    /// Answered in the zones (`zone` held the addresses).
    Answer {
        zone: &'a str,
        addrs: Vec<IpAddr>,
        chain: Vec<String>,
    },
    /// CNAMEs led out of the zones: `target` (the last name of `chain`) is for the servers.
    Leaves { chain: Vec<String>, target: String },
}

impl Zones {
    fn build(zones: &[PrivateZone]) -> Result<Zones, DnsError> {
        let mut by_name: HashMap<Box<str>, Zone> = HashMap::new();
        for z in zones {
            let zone_name = name_string(z.zone.trim());
            if let Err(e) = normalise(&zone_name) {
                return Err(DnsError::Config {
                    detail: format!("private zone '{}': {e}", z.zone),
                });
            }
            // The same zone twice is merged, as two record lists of one zone.
            let zone = by_name.entry(zone_name.clone().into()).or_default();
            for (rel, types) in &z.records {
                let rel = rel.trim().to_ascii_lowercase();
                let (map, key) = if rel == "@" {
                    (&mut zone.exact, String::new())
                } else if rel == "*" {
                    (&mut zone.wild, String::new())
                } else if let Some(under) = rel.strip_prefix("*.") {
                    (&mut zone.wild, under.trim_end_matches('.').to_owned())
                } else {
                    (&mut zone.exact, rel.trim_end_matches('.').to_owned())
                };
                let set = map.entry(key.into()).or_default();
                let mut v4 = Vec::new();
                let mut v6 = Vec::new();
                for (kind, values) in types {
                    let bad = |v: &str| DnsError::Config {
                        detail: format!(
                            "private zone {zone_name}: record '{rel}' {kind}: invalid value '{v}'"
                        ),
                    };
                    match kind.to_ascii_uppercase().as_str() {
                        "A" => {
                            for v in values {
                                let ip = v.trim().parse::<Ipv4Addr>().map_err(|_| bad(v))?;
                                v4.push(IpAddr::V4(ip));
                            }
                        }
                        "AAAA" => {
                            for v in values {
                                let ip = v.trim().parse::<Ipv6Addr>().map_err(|_| bad(v))?;
                                v6.push(IpAddr::V6(ip));
                            }
                        }
                        "CNAME" => {
                            if values.len() > 1 {
                                tracing::warn!(zone = %zone_name, record = %rel, "a CNAME has one target: using the first");
                            }
                            if let Some(v) = values.first() {
                                let target = name_string(v.trim());
                                normalise(&target).map_err(|_| bad(v))?;
                                set.cname = Some(target);
                            }
                        }
                        other => {
                            return Err(DnsError::Config {
                                detail: format!(
                                    "private zone {zone_name}: record '{rel}': unsupported type '{other}' (A, AAAA or CNAME)"
                                ),
                            });
                        }
                    }
                }
                for ip in v4.into_iter().chain(v6) {
                    if !set.addrs.contains(&ip) {
                        set.addrs.push(ip);
                    }
                }
                if set.cname.is_some() && !set.addrs.is_empty() {
                    tracing::warn!(zone = %zone_name, record = %rel, "record has both addresses and a CNAME: the addresses are used");
                }
            }
        }
        Ok(Zones { by_name })
    }

    /// The longest zone that is a suffix of `name` (label-wise), and the name relative to it.
    fn find<'n>(&self, name: &'n str) -> Option<(&str, &Zone, &'n str)> {
        if self.by_name.is_empty() {
            return None;
        }
        let mut start = 0;
        loop {
            let suffix = &name[start..];
            if let Some((zname, zone)) = self.by_name.get_key_value(suffix) {
                let rel = if start == 0 { "" } else { &name[..start - 1] };
                return Some((zname, zone, rel));
            }
            start += suffix.find('.')? + 1;
        }
    }

    /// Follows `name` through the zones.
    fn walk(&self, name: &str) -> Result<ZoneWalk<'_>, DnsError> {
        let mut chain: Vec<String> = Vec::new();
        let mut current = name;
        loop {
            let Some((zname, zone, rel)) = self.find(current) else {
                return Ok(match chain.last() {
                    None => ZoneWalk::NotInZone,
                    Some(last) => ZoneWalk::Leaves {
                        target: last.clone(),
                        chain,
                    },
                });
            };
            let server = || format!("private zone {zname}");
            let Some(set) = zone.get(rel) else {
                return Err(DnsError::NotFound {
                    name: current.to_owned(),
                    server: server(),
                });
            };
            if !set.addrs.is_empty() {
                return Ok(ZoneWalk::Answer {
                    zone: zname,
                    addrs: set.addrs.clone(),
                    chain,
                });
            }
            let Some(target) = &set.cname else {
                return Err(DnsError::NoRecords {
                    name: current.to_owned(),
                    server: server(),
                });
            };
            if target == name || chain.contains(target) {
                chain.push(target.clone());
                return Err(DnsError::CnameLoop {
                    name: name.to_owned(),
                    chain,
                });
            }
            if chain.len() == MAX_CNAME_DEPTH {
                return Err(DnsError::CnameTooDeep {
                    name: name.to_owned(),
                    max: MAX_CNAME_DEPTH,
                });
            }
            chain.push(target.clone());
            current = target;
        }
    }
}

impl Zone {
    /// The exact record, else the closest wildcard above a non-apex name.
    fn get(&self, rel: &str) -> Option<&RecordSet> {
        if let Some(set) = self.exact.get(rel) {
            return Some(set);
        }
        if rel.is_empty() || self.wild.is_empty() {
            return None;
        }
        let mut rest = rel;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if let Some(set) = self.wild.get(rest) {
                return Some(set);
            }
        }
        self.wild.get("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn zone(name: &str, records: &[(&str, &str, &[&str])]) -> PrivateZone {
        let mut map: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for (rel, kind, values) in records {
            map.entry((*rel).into()).or_default().insert(
                (*kind).into(),
                values.iter().map(|v| (*v).to_owned()).collect(),
            );
        }
        PrivateZone {
            zone: name.into(),
            records: map,
        }
    }

    #[test]
    fn normalise_names() {
        assert_eq!(
            normalise("Orders.Contoso.COM.").unwrap(),
            "orders.contoso.com"
        );
        assert!(matches!(
            normalise("orders.contoso.com").unwrap(),
            Cow::Borrowed(_)
        ));
        for bad in [
            "",
            ".",
            "a..b",
            ".a",
            "a b",
            "bücher.de",
            &"a".repeat(64),
            &"a.".repeat(128),
        ] {
            assert!(
                matches!(normalise(bad), Err(DnsError::InvalidName { .. })),
                "{bad:?}"
            );
        }
        assert!(normalise(&format!("{}.com", "a".repeat(63))).is_ok());
    }

    #[test]
    fn literals() {
        assert_eq!(parse_literal("10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(parse_literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(parse_literal("::1"), Some("::1".parse().unwrap()));
        assert_eq!(parse_literal("[10.0.0.1]"), None);
        assert_eq!(parse_literal("example.com"), None);
    }

    #[test]
    fn longest_zone_and_wildcards() {
        let zones = Zones::build(&[
            zone(
                "contoso.internal",
                &[
                    ("@", "A", &["10.0.0.1"]),
                    ("*", "A", &["10.0.0.9"]),
                    ("*.eu", "A", &["10.0.0.8"]),
                    ("orders", "A", &["10.0.0.2"]),
                ],
            ),
            zone("api.contoso.internal", &[("@", "A", &["10.1.0.1"])]),
        ])
        .unwrap();
        let (z, _, rel) = zones.find("x.api.contoso.internal").unwrap();
        assert_eq!((z, rel), ("api.contoso.internal", "x"));
        let (z, _, rel) = zones.find("contoso.internal").unwrap();
        assert_eq!((z, rel), ("contoso.internal", ""));
        assert!(zones.find("contoso.internal.evil").is_none());
        assert!(zones.find("xcontoso.internal").is_none());
        let addrs = |n: &str| match zones.walk(n) {
            Ok(ZoneWalk::Answer { addrs, .. }) => addrs,
            _ => panic!("{n}"),
        };
        assert_eq!(
            addrs("contoso.internal"),
            ["10.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            addrs("orders.contoso.internal"),
            ["10.0.0.2".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            addrs("a.b.contoso.internal"),
            ["10.0.0.9".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            addrs("x.y.eu.contoso.internal"),
            ["10.0.0.8".parse::<IpAddr>().unwrap()]
        );
        // `*.eu` matches below eu, not eu itself, which falls to `*`.
        assert_eq!(
            addrs("eu.contoso.internal"),
            ["10.0.0.9".parse::<IpAddr>().unwrap()]
        );
        // The apex of the inner zone exists; a name under it without a record does not.
        assert!(matches!(
            zones.walk("x.api.contoso.internal"),
            Err(DnsError::NotFound { .. })
        ));
    }

    #[test]
    fn cname_loops_and_depth() {
        let zones = Zones::build(&[zone(
            "z.internal",
            &[
                ("a", "CNAME", &["b.z.internal"]),
                ("b", "CNAME", &["a.z.internal."]),
                ("c0", "CNAME", &["c1.z.internal"]),
                ("c1", "CNAME", &["c2.z.internal"]),
                ("c2", "CNAME", &["c3.z.internal"]),
                ("c3", "CNAME", &["c4.z.internal"]),
                ("c4", "CNAME", &["c5.z.internal"]),
                ("c5", "CNAME", &["c6.z.internal"]),
                ("c6", "CNAME", &["c7.z.internal"]),
                ("c7", "CNAME", &["c8.z.internal"]),
                ("c8", "CNAME", &["c9.z.internal"]),
                ("c9", "A", &["10.0.0.1"]),
                ("out", "CNAME", &["Example.COM."]),
            ],
        )])
        .unwrap();
        assert!(matches!(
            zones.walk("a.z.internal"),
            Err(DnsError::CnameLoop { .. })
        ));
        assert!(matches!(
            zones.walk("c0.z.internal"),
            Err(DnsError::CnameTooDeep { .. })
        ));
        match zones.walk("c1.z.internal") {
            Ok(ZoneWalk::Answer { chain, .. }) => assert_eq!(chain.len(), 8),
            _ => panic!("c1"),
        }
        match zones.walk("out.z.internal") {
            Ok(ZoneWalk::Leaves { chain, target }) => {
                assert_eq!(chain, ["example.com"]);
                assert_eq!(target, "example.com");
            }
            _ => panic!("out"),
        }
    }

    #[test]
    fn bad_zone_records_are_config_errors() {
        for z in [
            zone("z.internal", &[("a", "A", &["::1"])]),
            zone("z.internal", &[("a", "AAAA", &["10.0.0.1"])]),
            zone("z.internal", &[("a", "MX", &["mail"])]),
            zone("z internal", &[]),
        ] {
            assert!(matches!(Zones::build(&[z]), Err(DnsError::Config { .. })));
        }
    }
}
