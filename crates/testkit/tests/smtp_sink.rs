//! The SMTP sink receives what lettre sends (the portal's mail transport) and decodes it.

use std::time::Duration;

use gatehouse_testkit::SmtpSink;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn transport(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&sink.url())
        .unwrap()
        .build()
}

#[tokio::test]
async fn a_message_from_lettre_is_received_and_decoded() {
    let sink = SmtpSink::start().await.unwrap();
    assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port()));
    // A confirmation link longer than a mail line may be (76 characters in quoted-printable),
    // so lettre soft-wraps it; a line that starts with a dot (SMTP dot-stuffing); non-ASCII.
    let link = format!(
        "https://portal.example/confirm?email=ada%40example.com&token={}",
        "a1b2c3d4e5".repeat(12)
    );
    let body = format!("Bonjour Ada, café ☕\r\n\r\n{link}\r\n.hidden line\r\n");
    let message = Message::builder()
        .from("Portal <portal@example.com>".parse().unwrap())
        .to("Ada <Ada@Example.com>".parse().unwrap())
        .subject("Confirm your account — gatehouse")
        .header(ContentType::TEXT_PLAIN)
        .body(body.clone())
        .unwrap();
    transport(&sink).send(message).await.unwrap();

    let mail = sink.wait_for("ada@example.com", WAIT).await.unwrap();
    assert_eq!(mail.from, "portal@example.com");
    assert_eq!(mail.to, vec!["Ada@Example.com".to_owned()]);
    assert_eq!(mail.subject, "Confirm your account — gatehouse");
    // The raw message was encoded (the link is not on one line of it), the decoded one not.
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(!raw.contains(&link), "the link was not wrapped:\n{raw}");
    // (lettre ends the encoded body with a line break of its own.)
    assert_eq!(
        mail.body_text.replace("\r\n", "\n").trim_end(),
        body.replace("\r\n", "\n").trim_end()
    );
    assert_eq!(sink.messages(), vec![mail]);
}

#[tokio::test]
async fn wait_for_returns_each_message_once_and_times_out_naming_what_came() {
    let sink = SmtpSink::start().await.unwrap();
    let transport = transport(&sink);
    for subject in ["first", "second"] {
        let message = Message::builder()
            .from("portal@example.com".parse().unwrap())
            .to("bob@example.com".parse().unwrap())
            .subject(subject)
            .body(String::from("hello"))
            .unwrap();
        transport.send(message).await.unwrap();
    }
    assert_eq!(
        sink.wait_for("bob@example.com", WAIT)
            .await
            .unwrap()
            .subject,
        "first"
    );
    assert_eq!(
        sink.wait_for("BOB@example.com", WAIT)
            .await
            .unwrap()
            .subject,
        "second"
    );
    let err = sink
        .wait_for("bob@example.com", Duration::from_millis(100))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no new mail for bob@example.com"), "{err}");
    assert!(err.contains("second"), "{err}");
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn a_waiter_is_woken_by_a_message_that_arrives_later() {
    let sink = SmtpSink::start().await.unwrap();
    let url = sink.url();
    let waiting = sink.wait_for("late@example.com", WAIT);
    let send = async move {
        let message = Message::builder()
            .from("portal@example.com".parse().unwrap())
            .to("late@example.com".parse().unwrap())
            .subject("late")
            .body(String::from("hello"))
            .unwrap();
        AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .unwrap()
            .build()
            .send(message)
            .await
            .unwrap();
    };
    let (mail, ()) = tokio::join!(waiting, send);
    assert_eq!(mail.unwrap().subject, "late");
}

/// The commands lettre does not use in a plain send, spoken by hand: RSET drops the
/// transaction, NOOP answers, out-of-order commands are refused, QUIT closes.
#[tokio::test]
async fn the_dialogue_follows_rfc_5321() {
    let sink = SmtpSink::start().await.unwrap();
    let stream = TcpStream::connect(sink.addr()).await.unwrap();
    let (read, write) = stream.into_split();
    let mut c = Dialogue {
        write,
        lines: BufReader::new(read).lines(),
    };
    assert!(c.say("").await.starts_with("220 "));
    assert!(c.say("HELO client").await.starts_with("250 "));
    assert!(c.say("RCPT TO:<a@example.com>").await.starts_with("503 "));
    assert!(c.say("MAIL FROM:<x@example.com>").await.starts_with("250 "));
    assert!(
        c.say("RCPT TO:<dropped@example.com>")
            .await
            .starts_with("250 ")
    );
    assert!(c.say("RSET").await.starts_with("250 "));
    assert!(c.say("DATA").await.starts_with("503 "));
    assert!(c.say("NOOP").await.starts_with("250 "));
    assert!(c.say("MAIL FROM:<x@example.com>").await.starts_with("250 "));
    assert!(
        c.say("RCPT TO:<kept@example.com>")
            .await
            .starts_with("250 ")
    );
    assert!(c.say("DATA").await.starts_with("354 "));
    c.write
        .write_all(b"Subject: by hand\r\n\r\n..starts with a dot\r\n.\r\n")
        .await
        .unwrap();
    assert!(c.say("").await.starts_with("250 "));
    assert!(c.say("FROB").await.starts_with("502 "));
    assert!(c.say("QUIT").await.starts_with("221 "));

    let mail = sink.wait_for("kept@example.com", WAIT).await.unwrap();
    assert_eq!(mail.subject, "by hand");
    assert_eq!(mail.body_text.trim_end(), ".starts with a dot");
    assert!(
        sink.messages()
            .iter()
            .all(|m| !m.is_for("dropped@example.com"))
    );
}

struct Dialogue {
    write: tokio::net::tcp::OwnedWriteHalf,
    lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
}

impl Dialogue {
    /// Sends `command` (nothing when empty) and returns the last line of the reply.
    async fn say(&mut self, command: &str) -> String {
        if !command.is_empty() {
            self.write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .unwrap();
        }
        // Multi-line replies have '-' after the code; the last line has ' '.
        loop {
            let line = self.lines.next_line().await.unwrap().unwrap();
            if line.as_bytes().get(3) != Some(&b'-') {
                return line;
            }
        }
    }
}
