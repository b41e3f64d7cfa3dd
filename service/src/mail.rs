//! Email: one mailer for everything the product sends (setup links, email confirmations,
//! alerts), over SMTP with the `lettre` crate, in the operator's branding. Configured by a URL: `smtp://host:25` (plain, for a relay on the same
//! network or a local test server), `smtp://host:587?tls=required` (STARTTLS) or
//! `smtps://user:password@host:465` (TLS from the first byte).

use crate::branding::Branding;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

/// Why mail could not be configured or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP URL is not usable: {0}")]
    Url(String),
    #[error("{0:?} is not an email address")]
    Address(String),
    #[error("the message could not be built: {0}")]
    Message(String),
    #[error("the SMTP server refused or could not be reached: {0}")]
    Send(String),
}

/// Sends plain-text messages from one sender through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server, without credentials, for logs and the console.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("server", &self.server).field("from", &self.from.to_string()).finish()
    }
}

impl Mailer {
    /// A mailer for the SMTP server at `smtp_url`, sending as `from` (`Name <address>` or
    /// an address).
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, MailError> {
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url).map_err(|e| MailError::Url(e.to_string()))?;
        let parsed = url::Url::parse(smtp_url).map_err(|e| MailError::Url(e.to_string()))?;
        let server =
            format!("{}://{}:{}", parsed.scheme(), parsed.host_str().unwrap_or(""), parsed.port().unwrap_or(0));
        Ok(Self { transport: transport.build(), from: mailbox(from)?, server })
    }

    /// Where mail goes (no credentials).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one message to `to` (each recipient sees only themselves: one message each),
    /// in the operator's `branding`: once the operator has set it, the sender's name is the
    /// product's (the address stays `MAIL_FROM`'s), and every message is signed with the
    /// product's name and support contact.
    pub async fn send(&self, branding: &Branding, to: &[Mailbox], subject: &str, text: &str) -> Result<(), MailError> {
        let from = match branding.customised {
            true => Mailbox::new(Some(branding.product_name.clone()), self.from.email.clone()),
            false => self.from.clone(),
        };
        let body = format!("{text}\n{}", branding.email_signature());
        for recipient in to {
            let message = Message::builder()
                .from(from.clone())
                .to(recipient.clone())
                .subject(subject)
                .header(ContentType::TEXT_PLAIN)
                .body(body.clone())
                .map_err(|e| MailError::Message(e.to_string()))?;
            self.transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
        }
        Ok(())
    }
}

/// A recipient or sender: `Name <address>` or a bare address.
pub fn mailbox(text: &str) -> Result<Mailbox, MailError> {
    text.trim().parse().map_err(|_| MailError::Address(text.to_owned()))
}
