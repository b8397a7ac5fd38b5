//! E-mail through SMTP (lettre): sign-up confirmations and password resets. `smtp://host:port`
//! sends in clear (a relay on loopback, tests' sink), `smtp://…?tls=required` upgrades with
//! STARTTLS, `smtps://` is TLS from the start; credentials go in the URL's userinfo.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP URL: {0}")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("sender address '{address}': {source}")]
    From {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("recipient address '{address}': {source}")]
    To {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("building the message: {0}")]
    Build(#[source] lettre::error::Error),
    #[error("sending: {0}")]
    Send(#[source] lettre::transport::smtp::Error),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL without its password, for logs.
    pub description: String,
}

impl Mailer {
    /// `url` as above; `from` the sender (`Portal <portal@example.com>` or a bare address).
    pub fn new(url: &str, from: &str) -> Result<Mailer, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(MailError::Url)?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse().map_err(|source| MailError::From {
            address: from.to_string(),
            source,
        })?;
        Ok(Mailer {
            transport,
            from,
            description: redact(url),
        })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|source| MailError::To {
            address: to.to_string(),
            source,
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(MailError::Build)?;
        self.transport
            .send(message)
            .await
            .map_err(MailError::Send)?;
        Ok(())
    }
}

/// `smtp://user:secret@host` without the secret.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_addresses_are_checked() {
        assert!(Mailer::new("smtp://127.0.0.1:2525", "Portal <portal@example.com>").is_ok());
        assert!(matches!(
            Mailer::new("ftp://x", "a@example.com"),
            Err(MailError::Url(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:25", "not an address"),
            Err(MailError::From { .. })
        ));
        assert_eq!(redact("smtp://u:pw@mail:587"), "smtp://***@mail:587");
    }
}
