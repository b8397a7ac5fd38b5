//! The scripted DNS server, asked with hand-built queries over UDP and TCP.

use gatehouse_testkit::dns::{DnsServer, QueryType, Record, Reply};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn query(name: &str, t: RecordType, id: u16) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = id;
    m.metadata.message_type = MessageType::Query;
    m.metadata.op_code = OpCode::Query;
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    m.to_vec().unwrap()
}

/// One query over UDP; `None` when nothing came back within `wait`.
async fn udp(server: SocketAddr, name: &str, t: RecordType, wait: Duration) -> Option<Message> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&query(name, t, 4242), server).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(wait, sock.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    let m = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.metadata.id, 4242);
    Some(m)
}

async fn tcp(server: SocketAddr, name: &str, t: RecordType) -> Message {
    let mut s = TcpStream::connect(server).await.unwrap();
    let q = query(name, t, 7);
    s.write_u16(q.len() as u16).await.unwrap();
    s.write_all(&q).await.unwrap();
    let len = s.read_u16().await.unwrap();
    let mut buf = vec![0u8; len.into()];
    s.read_exact(&mut buf).await.unwrap();
    Message::from_vec(&buf).unwrap()
}

/// (owner, ttl, address or CNAME target) of each answer record.
fn answers(m: &Message) -> Vec<(String, u32, String)> {
    m.answers
        .iter()
        .map(|r| {
            let data = match &r.data {
                RData::A(a) => a.0.to_string(),
                RData::AAAA(a) => a.0.to_string(),
                RData::CNAME(c) => c.0.to_string(),
                other => format!("{other:?}"),
            };
            (r.name.to_string(), r.ttl, data)
        })
        .collect()
}

const WAIT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn answers_by_type_with_ttls_and_counts_queries() {
    let v4 = Ipv4Addr::new(203, 0, 113, 7);
    let v6: Ipv6Addr = "2001:db8::7".parse().unwrap();
    let dns = DnsServer::with_answers([
        (
            "App.Example.Test.",
            Reply::Records(vec![Record::addr(60, v4), Record::addr(30, v6)]),
        ),
        (
            "alias.example.test",
            Reply::Records(vec![
                Record::cname(300, "app.example.test"),
                Record::addr(60, v4).named("app.example.test"),
            ]),
        ),
        ("broken.example.test", Reply::ServFail),
        ("closed.example.test", Reply::Refused),
        ("nodata.example.test", Reply::empty()),
    ])
    .await
    .unwrap();

    let a = udp(dns.addr(), "app.example.test.", RecordType::A, WAIT)
        .await
        .unwrap();
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        answers(&a),
        [("app.example.test.".into(), 60, "203.0.113.7".into())]
    );
    let aaaa = udp(dns.addr(), "APP.example.test.", RecordType::AAAA, WAIT)
        .await
        .unwrap();
    assert_eq!(
        answers(&aaaa),
        [("APP.example.test.".into(), 30, "2001:db8::7".into())]
    );
    let alias = tcp(dns.addr(), "alias.example.test.", RecordType::A).await;
    assert_eq!(
        answers(&alias),
        [
            (
                "alias.example.test.".into(),
                300,
                "app.example.test.".into()
            ),
            ("app.example.test.".into(), 60, "203.0.113.7".into())
        ]
    );
    // CNAMEs answer every type; addresses only their own.
    let alias6 = udp(dns.addr(), "alias.example.test.", RecordType::AAAA, WAIT)
        .await
        .unwrap();
    assert_eq!(answers(&alias6).len(), 1);

    for (name, code) in [
        ("broken.example.test.", ResponseCode::ServFail),
        ("closed.example.test.", ResponseCode::Refused),
        ("other.example.test.", ResponseCode::NXDomain),
        ("nodata.example.test.", ResponseCode::NoError),
    ] {
        let m = udp(dns.addr(), name, RecordType::A, WAIT).await.unwrap();
        assert_eq!(m.metadata.response_code, code, "{name}");
        assert!(m.answers.is_empty(), "{name}");
    }

    assert_eq!(dns.queries("app.example.test"), 2);
    assert_eq!(dns.queries_of("app.example.test", QueryType::A), 1);
    assert_eq!(dns.queries_of("APP.EXAMPLE.TEST.", QueryType::Aaaa), 1);
    assert_eq!(dns.queries("alias.example.test"), 2);
    assert_eq!(dns.queries("never.example.test"), 0);
    assert_eq!(dns.total_queries(), 8);
    assert_eq!(dns.tcp_queries(), 1);
    let log = dns.query_log();
    assert_eq!(log[0].name, "app.example.test");
    assert_eq!(
        (log[0].qtype, log[0].nth, log[0].tcp),
        (QueryType::A, 0, false)
    );
    assert!(log[2].tcp);
}

#[tokio::test]
async fn script_sees_the_query_count_and_set_overrides_it() {
    let first = Ipv4Addr::new(198, 51, 100, 1);
    let later = Ipv4Addr::LOCALHOST;
    let dns = DnsServer::start(move |q| match (q.name.as_str(), q.nth) {
        ("rebind.example.test", 0) => Reply::addrs(1, [first]),
        ("rebind.example.test", _) => Reply::addrs(1, [later]),
        _ => Reply::NxDomain,
    })
    .await
    .unwrap();
    let ask = || udp(dns.addr(), "rebind.example.test.", RecordType::A, WAIT);
    assert_eq!(answers(&ask().await.unwrap())[0].2, "198.51.100.1");
    assert_eq!(answers(&ask().await.unwrap())[0].2, "127.0.0.1");
    assert_eq!(answers(&ask().await.unwrap())[0].2, "127.0.0.1");

    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    dns.set("rebind.example.test", Reply::addrs(5, [ip]));
    assert_eq!(
        answers(&ask().await.unwrap()),
        [("rebind.example.test.".into(), 5, "10.1.2.3".into())]
    );
    dns.unset("rebind.example.test");
    assert_eq!(answers(&ask().await.unwrap())[0].2, "127.0.0.1");
    assert_eq!(
        dns.wait_for_queries("rebind.example.test", 5, WAIT)
            .await
            .unwrap(),
        5
    );
    assert!(
        dns.wait_for_queries("rebind.example.test", 6, Duration::from_millis(50))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn silent_delayed_and_truncated_answers() {
    let dns = DnsServer::with_answers([
        ("silent.example.test", Reply::Silent),
        (
            "slow.example.test",
            Reply::addrs(60, [Ipv4Addr::new(192, 0, 2, 1)]).after(Duration::from_millis(300)),
        ),
        (
            "big.example.test",
            Reply::TruncatedUdp(vec![Record::addr(60, Ipv4Addr::new(192, 0, 2, 2))]),
        ),
    ])
    .await
    .unwrap();

    let started = Instant::now();
    assert!(
        udp(
            dns.addr(),
            "silent.example.test.",
            RecordType::A,
            Duration::from_millis(300)
        )
        .await
        .is_none()
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(dns.queries("silent.example.test"), 1);

    // A delayed answer doesn't hold up another query.
    let slow = tokio::spawn({
        let addr = dns.addr();
        async move {
            let started = Instant::now();
            let m = udp(addr, "slow.example.test.", RecordType::A, WAIT)
                .await
                .unwrap();
            (started.elapsed(), answers(&m))
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let quick = Instant::now();
    let m = udp(dns.addr(), "big.example.test.", RecordType::A, WAIT)
        .await
        .unwrap();
    assert!(quick.elapsed() < Duration::from_millis(250));
    assert!(m.metadata.truncation && m.answers.is_empty());
    let (took, slow_answers) = slow.await.unwrap();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert_eq!(slow_answers[0].2, "192.0.2.1");

    // Over TCP the truncated answer comes whole.
    let m = tcp(dns.addr(), "big.example.test.", RecordType::A).await;
    assert!(!m.metadata.truncation);
    assert_eq!(answers(&m)[0].2, "192.0.2.2");
}
