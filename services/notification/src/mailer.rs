//! SMTP: turns a [`Mail`] into a MIME message (text and HTML alternatives, the `.ics`
//! attached) and hands it to the configured server.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Smtp, SmtpTls};
use crate::mail::Mail;

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Will fail again however often it is tried: a malformed recipient, or the server
    /// refused it for good (a 5xx reply).
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt: the server is unreachable, timed out or said "later" (4xx).
    #[error("{0}")]
    Transient(String),
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(smtp: &Smtp) -> anyhow::Result<Self> {
        let builder = match smtp.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
        };
        let mut builder = builder.port(smtp.port).timeout(Some(smtp.timeout));
        if let Some((user, password)) = &smtp.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from: smtp.from.parse()?,
        })
    }

    /// Sends `mail`; `message_id` becomes its `Message-ID` header, the same on every attempt.
    pub async fn send(&self, mail: &Mail, message_id: &str) -> Result<(), SendError> {
        let message = build(&self.from, mail, message_id)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|err| {
                let text = format!("SMTP: {err}");
                if err.is_permanent() {
                    SendError::Permanent(text)
                } else {
                    SendError::Transient(text)
                }
            })
    }
}

fn build(from: &Mailbox, mail: &Mail, message_id: &str) -> Result<Message, SendError> {
    let to: Mailbox = mail.to.parse().map_err(|err| {
        SendError::Permanent(format!("recipient {:?} is not an address: {err}", mail.to))
    })?;
    let body = MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone());
    let body = match &mail.calendar {
        None => body,
        Some(ics) => MultiPart::mixed()
            .multipart(body)
            .singlepart(calendar_part(ics)?),
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{message_id}@ticketflow.dev>")))
        .multipart(body)
        .map_err(|err| SendError::Permanent(format!("building the message: {err}")))
}

fn calendar_part(ics: &str) -> Result<SinglePart, SendError> {
    let content_type = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
        .map_err(|err| SendError::Permanent(format!("calendar content type: {err}")))?;
    Ok(Attachment::new("ticket.ics".to_owned()).body(ics.to_owned(), content_type))
}
