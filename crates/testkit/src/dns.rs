//! [`DnsServer`]: a scripted DNS server on loopback, for tests of name resolution.
//!
//! It answers over UDP and TCP on the same `127.0.0.1` port (TCP for truncated answers), and
//! for every query asks a script what to say: records with chosen TTLs, NXDOMAIN, SERVFAIL,
//! REFUSED, nothing at all (a silent server, for timeouts), a truncated UDP answer, or any of
//! these after a delay. The script sees the name, the type and how many queries of that name
//! and type came before, so an answer can change from one query to the next (TTL expiry, DNS
//! rebinding); [`DnsServer::set`] changes the answer for a name while the server runs, which
//! is easier to drive from a test than query counts. Every query is counted per name and type.
//!
//! Built directly on hickory-proto's `Message`, not on a DNS server crate: a test decides
//! *exactly* what goes on the wire.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use gatehouse_testkit::dns::{DnsServer, Reply};
//! use std::net::Ipv4Addr;
//!
//! let dns = DnsServer::with_answers([
//!     ("api.example.test", Reply::addrs(60, [Ipv4Addr::new(203, 0, 113, 7)])),
//!     ("broken.example.test", Reply::ServFail),
//! ])
//! .await?;
//! // network: { dns: { servers: ["<dns.addr()>"] } }
//! dns.set("api.example.test", Reply::addrs(1, [Ipv4Addr::new(127, 0, 0, 1)]));
//! assert_eq!(dns.queries("never.asked"), 0);
//! # Ok(()) }
//! ```
//!
//! The server's tasks run on the Tokio runtime that started it: a test that blocks its thread
//! while something resolves through the server (a `std::process::Command` running the CLI on
//! a current-thread runtime) must use a multi-thread runtime or `tokio::process`.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The type of a query, as the script and the counters see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryType {
    A,
    Aaaa,
    /// Any other type, by number (CNAME 5, TXT 16, ...).
    Other(u16),
}

impl QueryType {
    fn of(t: RecordType) -> QueryType {
        match t {
            RecordType::A => QueryType::A,
            RecordType::AAAA => QueryType::Aaaa,
            other => QueryType::Other(u16::from(other)),
        }
    }
}

/// One query the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The name asked, lowercased, without the trailing dot.
    pub name: String,
    pub qtype: QueryType,
    /// How many queries of this name and type came before this one (0 for the first).
    pub nth: usize,
    /// Received over TCP (else UDP).
    pub tcp: bool,
    /// When it arrived.
    pub at: Instant,
}

/// The data of a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// An A record for an IPv4 address, an AAAA record for an IPv6 one.
    Addr(IpAddr),
    /// A CNAME to this name (absolute; a trailing dot is optional).
    Cname(String),
}

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name; `None`: the name asked.
    pub owner: Option<String>,
    pub ttl: u32,
    pub data: RecordData,
}

impl Record {
    /// An A (IPv4) or AAAA (IPv6) record for the name asked.
    pub fn addr(ttl: u32, ip: impl Into<IpAddr>) -> Record {
        Record {
            owner: None,
            ttl,
            data: RecordData::Addr(ip.into()),
        }
    }

    /// A CNAME record for the name asked.
    pub fn cname(ttl: u32, target: &str) -> Record {
        Record {
            owner: None,
            ttl,
            data: RecordData::Cname(target.to_owned()),
        }
    }

    /// The same record owned by `owner` (for the later links of a CNAME chain).
    pub fn named(mut self, owner: &str) -> Record {
        self.owner = Some(owner.to_owned());
        self
    }
}

/// What the server says to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// NOERROR with these answer records: addresses of the asked type only (A records to an A
    /// query, AAAA to an AAAA query), CNAMEs always. No record of the asked type is NODATA.
    Records(Vec<Record>),
    NxDomain,
    ServFail,
    Refused,
    /// No answer at all: the client times out.
    Silent,
    /// Over UDP: an empty answer with the TC bit set; over TCP: these records.
    TruncatedUdp(Vec<Record>),
    /// The reply, after a delay (the server answers other queries meanwhile).
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    /// NOERROR with one A or AAAA record per address, each with `ttl`, for the name asked.
    pub fn addrs<I>(ttl: u32, ips: I) -> Reply
    where
        I: IntoIterator,
        I::Item: Into<IpAddr>,
    {
        Reply::Records(ips.into_iter().map(|ip| Record::addr(ttl, ip)).collect())
    }

    /// NOERROR without records (the name exists, without addresses).
    pub fn empty() -> Reply {
        Reply::Records(Vec::new())
    }

    /// This reply after `delay`.
    pub fn after(self, delay: Duration) -> Reply {
        Reply::Delayed(delay, Box::new(self))
    }
}

type Script = dyn Fn(&Query) -> Reply + Send + Sync;

#[derive(Default)]
struct Counts {
    by_query: HashMap<(String, QueryType), usize>,
    log: Vec<Query>,
}

struct State {
    script: Box<Script>,
    /// Answers set with [`DnsServer::set`]: consulted before the script.
    overrides: Mutex<HashMap<String, Reply>>,
    counts: Mutex<Counts>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lowercase, without the trailing dot: how names are compared.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A scripted DNS server on `127.0.0.1:PORT`, UDP and TCP. Dropping it stops it (open TCP
/// connections included).
pub struct DnsServer {
    addr: SocketAddr,
    state: Arc<State>,
    tasks: Vec<JoinHandle<()>>,
    // Dropping the sender wakes every `changed()`: the shutdown signal for TCP connections.
    _shutdown: watch::Sender<()>,
}

impl fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsServer")
            .field("addr", &self.addr)
            .field("queries", &self.total_queries())
            .finish()
    }
}

impl DnsServer {
    /// Starts a server that answers each query with `script(query)` (unless [`DnsServer::set`]
    /// gave an answer for the name). Binds UDP and TCP on the same free port of 127.0.0.1.
    pub async fn start(script: impl Fn(&Query) -> Reply + Send + Sync + 'static) -> Result<Self> {
        // UDP and TCP on the same port: retry until both binds succeed.
        let mut tries = 0;
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .context("dns server: binding UDP 127.0.0.1:0")?;
            let port = udp
                .local_addr()
                .context("dns server: reading the UDP address")?
                .port();
            match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
                Ok(tcp) => break (udp, tcp),
                Err(e) => {
                    tries += 1;
                    if tries >= 50 {
                        bail!("dns server: no port free for both UDP and TCP: {e}");
                    }
                }
            }
        };
        let addr = udp
            .local_addr()
            .context("dns server: reading the address")?;
        let state = Arc::new(State {
            script: Box::new(script),
            overrides: Mutex::new(HashMap::new()),
            counts: Mutex::new(Counts::default()),
        });
        let (tx, rx) = watch::channel(());
        let udp_task = tokio::spawn(serve_udp(Arc::new(udp), state.clone()));
        let tcp_task = tokio::spawn(accept_tcp(tcp, state.clone(), rx));
        Ok(DnsServer {
            addr,
            state,
            tasks: vec![udp_task, tcp_task],
            _shutdown: tx,
        })
    }

    /// Starts a server with a fixed table of answers (changeable with [`DnsServer::set`]);
    /// every other name is NXDOMAIN.
    pub async fn with_answers<'a>(
        answers: impl IntoIterator<Item = (&'a str, Reply)>,
    ) -> Result<Self> {
        let server = DnsServer::start(|_| Reply::NxDomain).await?;
        for (name, reply) in answers {
            server.set(name, reply);
        }
        Ok(server)
    }

    /// `127.0.0.1:PORT`, for `dns.servers` (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on, answers every query for `name` (any type) with `reply`, whatever the
    /// script says. For addresses, [`Reply::Records`] gives each query type its own records.
    pub fn set(&self, name: &str, reply: Reply) {
        lock(&self.state.overrides).insert(normalise(name), reply);
    }

    /// Hands `name` back to the script.
    pub fn unset(&self, name: &str) {
        lock(&self.state.overrides).remove(&normalise(name));
    }

    /// Queries received for `name`, every type together (A and AAAA: a resolver usually asks
    /// both for one lookup).
    pub fn queries(&self, name: &str) -> usize {
        let name = normalise(name);
        lock(&self.state.counts)
            .by_query
            .iter()
            .filter(|((n, _), _)| *n == name)
            .map(|(_, count)| count)
            .sum()
    }

    /// Queries received for `name` of type `qtype`.
    pub fn queries_of(&self, name: &str, qtype: QueryType) -> usize {
        lock(&self.state.counts)
            .by_query
            .get(&(normalise(name), qtype))
            .copied()
            .unwrap_or(0)
    }

    /// Every query received, whatever the name.
    pub fn total_queries(&self) -> usize {
        lock(&self.state.counts).log.len()
    }

    /// Queries received over TCP.
    pub fn tcp_queries(&self) -> usize {
        lock(&self.state.counts)
            .log
            .iter()
            .filter(|q| q.tcp)
            .count()
    }

    /// Every query received so far, in arrival order.
    pub fn query_log(&self) -> Vec<Query> {
        lock(&self.state.counts).log.clone()
    }

    /// Waits until at least `n` queries for `name` (every type) arrived, polling every 10 ms;
    /// returns the count, or fails after `timeout` with the count reached.
    pub async fn wait_for_queries(&self, name: &str, n: usize, timeout: Duration) -> Result<usize> {
        let what = format!("dns server {}", self.addr);
        let noun = format!("queries for {name}");
        crate::wait::until_count(n, timeout, &what, &noun, || self.queries(name), |c| *c).await
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn serve_udp(udp: Arc<UdpSocket>, state: Arc<State>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, peer) = match udp.recv_from(&mut buf).await {
            Ok(received) => received,
            // E.g. ECONNREFUSED reported for an earlier send to a client that went away.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
        };
        let Some((reply, query)) = decide(&buf[..n], &state, false) else {
            continue;
        };
        let udp = udp.clone();
        // Each answer on its own task: a delayed one doesn't hold up the others.
        tokio::spawn(async move {
            if let Some(bytes) = respond(reply, &query, false).await {
                let _ = udp.send_to(&bytes, peer).await;
            }
        });
    }
}

async fn accept_tcp(tcp: TcpListener, state: Arc<State>, shutdown: watch::Receiver<()>) {
    loop {
        let stream = match tcp.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let (state, mut shutdown) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = serve_tcp(stream, state) => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

/// DNS over TCP: each message is preceded by its length (two bytes, big-endian).
async fn serve_tcp(mut stream: TcpStream, state: Arc<State>) {
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut buf = vec![0u8; len.into()];
        if stream.read_exact(&mut buf).await.is_err() {
            return;
        }
        let Some((reply, query)) = decide(&buf, &state, true) else {
            continue;
        };
        if let Some(bytes) = respond(reply, &query, true).await {
            let Ok(len) = u16::try_from(bytes.len()) else {
                return;
            };
            if stream.write_u16(len).await.is_err() || stream.write_all(&bytes).await.is_err() {
                return;
            }
        }
    }
}

/// Parses a query, counts it and asks the overrides, then the script, what to answer.
/// `None` for a packet that isn't a query with a question (ignored).
fn decide(packet: &[u8], state: &State, tcp: bool) -> Option<(Reply, Message)> {
    let message = Message::from_vec(packet).ok()?;
    let question = message.queries.first()?;
    let name = normalise(&question.name().to_string());
    let qtype = QueryType::of(question.query_type());
    let query = {
        let mut counts = lock(&state.counts);
        let seen = counts.by_query.entry((name.clone(), qtype)).or_default();
        let nth = *seen;
        *seen += 1;
        let query = Query {
            name,
            qtype,
            nth,
            tcp,
            at: Instant::now(),
        };
        counts.log.push(query.clone());
        query
    };
    let set = lock(&state.overrides).get(&query.name).cloned();
    let reply = set.unwrap_or_else(|| (state.script)(&query));
    Some((reply, message))
}

fn absolute(name: &str) -> Option<Name> {
    let name = name.trim_end_matches('.');
    Name::from_ascii(format!("{name}.")).ok()
}

/// The bytes of the answer to `query`, after the reply's delay; `None`: say nothing.
async fn respond(mut reply: Reply, query: &Message, tcp: bool) -> Option<Vec<u8>> {
    while let Reply::Delayed(delay, inner) = reply {
        tokio::time::sleep(delay).await;
        reply = *inner;
    }
    let question = query.queries.first()?;
    let qtype = question.query_type();
    let mut msg = Message::response(query.metadata.id, query.metadata.op_code);
    msg.metadata.recursion_desired = query.metadata.recursion_desired;
    msg.metadata.recursion_available = true;
    msg.add_queries(query.queries.iter().cloned());
    match reply {
        Reply::Silent => return None,
        Reply::NxDomain => msg.metadata.response_code = ResponseCode::NXDomain,
        Reply::ServFail => msg.metadata.response_code = ResponseCode::ServFail,
        Reply::Refused => msg.metadata.response_code = ResponseCode::Refused,
        Reply::TruncatedUdp(_) if !tcp => msg.metadata.truncation = true,
        Reply::Records(records) | Reply::TruncatedUdp(records) => {
            for record in records {
                let data = match record.data {
                    RecordData::Addr(IpAddr::V4(ip)) if qtype == RecordType::A => RData::A(A(ip)),
                    RecordData::Addr(IpAddr::V6(ip)) if qtype == RecordType::AAAA => {
                        RData::AAAA(AAAA(ip))
                    }
                    RecordData::Cname(target) => RData::CNAME(CNAME(absolute(&target)?)),
                    RecordData::Addr(_) => continue,
                };
                let owner = match &record.owner {
                    Some(owner) => absolute(owner)?,
                    None => question.name().clone(),
                };
                msg.add_answer(hickory_proto::rr::Record::from_rdata(
                    owner, record.ttl, data,
                ));
            }
        }
        Reply::Delayed(..) => unreachable!("delays are unwrapped above"),
    }
    msg.to_vec().ok()
}
