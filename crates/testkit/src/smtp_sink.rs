//! [`SmtpSink`]: an SMTP server on 127.0.0.1 that accepts every message and keeps it, decoded,
//! for the portal's tests (sign-up confirmation and password-reset links).
//!
//! Hand-written on purpose: no maintained crate offers an embeddable SMTP *test sink* (the SMTP
//! server crates are whole mail servers, or unmaintained), and the part of RFC 5321 a client such
//! as lettre's `AsyncSmtpTransport::from_url("smtp://127.0.0.1:PORT")` uses is small: greeting,
//! EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET, NOOP, QUIT (AUTH PLAIN/LOGIN
//! are accepted whatever the credentials, which are never kept). What is *not* hand-written is
//! the decoding of the message: `mail-parser` undoes quoted-printable, base64, soft line breaks,
//! encoded words and multipart, so a test reads the text a user would read.
//!
//! Waiting is event-driven: messages live in a `tokio::sync::watch` channel, and
//! [`SmtpSink::wait_for`] waits on its changes (no polling, no sleeps).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The longest command or data line accepted (RFC 5321 asks for 1000 octets; lettre's lines
/// are shorter, and a longer limit only guards against a runaway client).
const MAX_LINE: u64 = 64 * 1024;

/// The largest message accepted; more is answered `552`.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// One message as received: the envelope, and the content decoded by `mail-parser`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`), `""` for the null sender `<>`.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub to: Vec<String>,
    /// The decoded `Subject` header, `""` when there is none.
    pub subject: String,
    /// The decoded text body (the `text/plain` part; an HTML-only message converted to text),
    /// `""` when there is none.
    pub body_text: String,
    /// The decoded `text/html` part, if any.
    pub body_html: Option<String>,
    /// The message as received after dot-unstuffing (headers and encoded body, CRLF line ends).
    pub raw: Vec<u8>,
}

impl Mail {
    /// Whether `address` is one of the envelope recipients (ASCII case-insensitive).
    pub fn is_for(&self, address: &str) -> bool {
        self.to.iter().any(|to| to.eq_ignore_ascii_case(address))
    }
}

/// A running SMTP sink; dropping it stops the server and its connections.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    messages: watch::Receiver<Vec<Mail>>,
    /// Indexes of messages [`SmtpSink::wait_for`] has already returned.
    taken: Mutex<HashSet<usize>>,
    acceptor: JoinHandle<()>,
}

impl SmtpSink {
    /// Binds 127.0.0.1 on a port the system chooses and starts accepting connections.
    pub async fn start() -> Result<SmtpSink> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the SMTP sink on 127.0.0.1")?;
        let addr = listener.local_addr().context("the SMTP sink's address")?;
        let (tx, messages) = watch::channel(Vec::new());
        let acceptor = tokio::spawn(accept_loop(listener, Arc::new(tx)));
        Ok(SmtpSink {
            addr,
            messages,
            taken: Mutex::new(HashSet::new()),
            acceptor,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `smtp://127.0.0.1:PORT` (plain SMTP, no TLS), as lettre's `from_url` takes it.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        self.messages.borrow().clone()
    }

    /// Waits until a message for `to_address` (an envelope recipient, case-insensitive) has
    /// arrived that no earlier `wait_for` returned, and returns it: the first call for an
    /// address returns its first message, the next call its second (sign-up confirmation, then
    /// password reset). Fails after `timeout`, naming what did arrive.
    pub async fn wait_for(&self, to_address: &str, timeout: Duration) -> Result<Mail> {
        let taken = self.taken_snapshot();
        let mut rx = self.messages.clone();
        let found = tokio::time::timeout(
            timeout,
            rx.wait_for(|msgs| next_for(msgs, to_address, &taken).is_some()),
        )
        .await;
        match found {
            Ok(Ok(msgs)) => {
                let (index, mail) = next_for(&msgs, to_address, &taken)
                    .ok_or_else(|| anyhow!("the SMTP sink lost a message"))?;
                let mail = mail.clone();
                drop(msgs);
                self.taken
                    .lock()
                    .map_err(|_| anyhow!("the SMTP sink's state is poisoned"))?
                    .insert(index);
                Ok(mail)
            }
            Ok(Err(_)) => Err(anyhow!("the SMTP sink stopped")),
            Err(_) => {
                let seen: Vec<String> = self
                    .messages()
                    .iter()
                    .map(|m| format!("to {:?}: {:?}", m.to, m.subject))
                    .collect();
                Err(anyhow!(
                    "no new mail for {to_address} within {timeout:?}; received: {seen:?}"
                ))
            }
        }
    }

    fn taken_snapshot(&self) -> HashSet<usize> {
        // A poisoned lock only means a waiter panicked; its set is still valid.
        match self.taken.lock() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Aborting the acceptor drops its JoinSet, which aborts every open connection.
        self.acceptor.abort();
    }
}

fn next_for<'m>(
    msgs: &'m [Mail],
    to_address: &str,
    taken: &HashSet<usize>,
) -> Option<(usize, &'m Mail)> {
    msgs.iter()
        .enumerate()
        .find(|(i, m)| !taken.contains(i) && m.is_for(to_address))
}

async fn accept_loop(listener: TcpListener, messages: Arc<watch::Sender<Vec<Mail>>>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let messages = Arc::clone(&messages);
                    connections.spawn(async move {
                        // A client that goes away mid-session is not the test's concern: the
                        // test waits for the messages it expects and fails on its own timeout.
                        let _ = session(stream, &messages).await;
                    });
                }
                // Out of file descriptors and the like: give the test a chance to notice.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            // Reap finished sessions so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// The envelope of the transaction under way.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn session(stream: TcpStream, messages: &watch::Sender<Vec<Mail>>) -> Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    reply(&mut write, "220 gatehouse-testkit SMTP sink ready").await?;
    let mut envelope = Envelope::default();
    loop {
        let Some(line) = read_line(&mut read).await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" => {
                envelope = Envelope::default();
                reply(
                    &mut write,
                    "250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN LOGIN\r\n250 OK",
                )
                .await?
            }
            "HELO" => {
                envelope = Envelope::default();
                reply(&mut write, "250 localhost").await?
            }
            "MAIL" => match path_after(arg, "FROM:") {
                Some(from) => {
                    envelope = Envelope {
                        from: Some(from),
                        to: Vec::new(),
                    };
                    reply(&mut write, "250 OK").await?
                }
                None => reply(&mut write, "501 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" => match (&envelope.from, path_after(arg, "TO:")) {
                (None, _) => reply(&mut write, "503 MAIL first").await?,
                (Some(_), Some(to)) if !to.is_empty() => {
                    envelope.to.push(to);
                    reply(&mut write, "250 OK").await?
                }
                (Some(_), _) => reply(&mut write, "501 syntax: RCPT TO:<address>").await?,
            },
            "DATA" => {
                if envelope.from.is_none() || envelope.to.is_empty() {
                    reply(&mut write, "503 MAIL and RCPT first").await?;
                    continue;
                }
                reply(&mut write, "354 end data with <CR><LF>.<CR><LF>").await?;
                match read_data(&mut read).await? {
                    Some(raw) => {
                        let env = std::mem::take(&mut envelope);
                        let mail = decode(env.from.unwrap_or_default(), env.to, raw);
                        messages.send_modify(|msgs| msgs.push(mail));
                        reply(&mut write, "250 OK queued").await?
                    }
                    None => {
                        envelope = Envelope::default();
                        reply(&mut write, "552 message too large").await?
                    }
                }
            }
            "AUTH" => auth(&mut read, &mut write, arg).await?,
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut write, "250 OK").await?
            }
            "NOOP" => reply(&mut write, "250 OK").await?,
            "VRFY" => reply(&mut write, "252 cannot verify, will accept").await?,
            "STARTTLS" => reply(&mut write, "454 TLS not available").await?,
            "QUIT" => {
                reply(&mut write, "221 bye").await?;
                return Ok(());
            }
            _ => reply(&mut write, "502 command not implemented").await?,
        }
    }
}

/// Accepts AUTH PLAIN (initial response or not) and AUTH LOGIN with any credentials, which are
/// read and dropped: they are secrets, and the sink has nothing to check them against.
async fn auth<R, W>(read: &mut R, write: &mut W, arg: &str) -> Result<()>
where
    R: AsyncBufReadExt + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut parts = arg.split_whitespace();
    let mechanism = parts.next().unwrap_or("").to_ascii_uppercase();
    let initial = parts.next();
    // The challenges still to send: PLAIN's empty one, LOGIN's "Username:" and "Password:"
    // (base64); an initial response on the AUTH line answers the first.
    let challenges: &[&str] = match mechanism.as_str() {
        "PLAIN" => &["334 "],
        "LOGIN" => &["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"],
        _ => return reply(write, "504 unrecognised authentication mechanism").await,
    };
    let skip = usize::from(initial.is_some());
    for challenge in challenges.iter().skip(skip) {
        reply(write, challenge).await?;
        if read_line(read).await?.is_none() {
            return Ok(());
        }
    }
    reply(write, "235 authenticated").await
}

/// The address in `<...>` after `keyword` (case-insensitive, optional space after the colon);
/// ESMTP parameters after it (`SIZE=`, `BODY=`) are ignored.
fn path_after(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_owned())
}

/// Reads one line (with its line end) of at most [`MAX_LINE`] bytes; `None` at end of stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(read: &mut R) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = (&mut *read)
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .await
        .context("reading from the SMTP client")?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(line))
}

/// Reads DATA up to the terminating `.` line, undoing dot-stuffing (RFC 5321 §4.5.2): a line
/// that starts with `.` lost that first dot. `None` when the message exceeded [`MAX_MESSAGE`]
/// (the rest is read and dropped so the session stays in step).
async fn read_data<R: AsyncBufReadExt + Unpin>(read: &mut R) -> Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut too_large = false;
    loop {
        let line = read_line(read)
            .await?
            .ok_or_else(|| anyhow!("the SMTP client closed the connection during DATA"))?;
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_large).then_some(raw));
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if raw.len() + line.len() > MAX_MESSAGE {
            too_large = true;
            raw.clear();
        }
        if !too_large {
            raw.extend_from_slice(line);
        }
    }
}

fn decode(from: String, to: Vec<String>, raw: Vec<u8>) -> Mail {
    let parsed = mail_parser::MessageParser::default().parse(&raw);
    let (subject, body_text, body_html) = match &parsed {
        Some(message) => (
            message.subject().unwrap_or_default().to_owned(),
            message
                .body_text(0)
                .map(|b| b.into_owned())
                .unwrap_or_default(),
            message.body_html(0).map(|b| b.into_owned()),
        ),
        None => (String::new(), String::new(), None),
    };
    Mail {
        from,
        to,
        subject,
        body_text,
        body_html,
        raw,
    }
}

async fn reply<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> Result<()> {
    write
        .write_all(format!("{text}\r\n").as_bytes())
        .await
        .context("writing to the SMTP client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_case_insensitively_without_parameters() {
        assert_eq!(
            path_after("FROM:<a@example.com> SIZE=10", "FROM:").as_deref(),
            Some("a@example.com")
        );
        assert_eq!(
            path_after("to: <B@Example.com>", "TO:").as_deref(),
            Some("B@Example.com")
        );
        assert_eq!(path_after("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_after("FROM:a@example.com", "FROM:"), None);
        assert_eq!(path_after("TO:<a@example.com>", "FROM:"), None);
    }

    #[tokio::test]
    async fn data_is_dot_unstuffed_and_ends_at_the_lone_dot() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nplain\r\n.\r\nNOOP\r\n";
        let mut read = BufReader::new(input);
        let raw = read_data(&mut read).await.unwrap().unwrap();
        assert_eq!(raw, b"Subject: x\r\n\r\n.leading dot\r\nplain\r\n");
        // The command after DATA is still there to read.
        assert_eq!(read_line(&mut read).await.unwrap().unwrap(), b"NOOP\r\n");
    }

    #[test]
    fn quoted_printable_soft_breaks_are_undone() {
        let raw = b"Subject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nhttps://portal.example/confirm?token=3Dabc=\r\ndef\r\n"
            .to_vec();
        let mail = decode("a@x".into(), vec!["b@y".into()], raw);
        assert_eq!(mail.subject, "café");
        assert_eq!(
            mail.body_text.trim_end(),
            "https://portal.example/confirm?token=abcdef"
        );
    }
}
