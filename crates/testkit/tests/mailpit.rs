//! The Mailpit reader against the local SMTP sink: a mail sent over plain SMTP is found by
//! recipient and read back whole.

use std::time::Duration;

use ticketflow_testkit::mailpit::Mailpit;
use ticketflow_testkit::setting;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Speaks just enough SMTP to hand one message to the sink.
async fn send_mail(to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
    let addr = format!("{}:{}", setting("SMTP_HOST")?, setting("SMTP_PORT")?);
    let stream = TcpStream::connect(&addr).await?;
    let (read, mut write) = stream.into_split();
    let mut replies = BufReader::new(read).lines();
    let mut expect = async |code: &str| -> anyhow::Result<()> {
        loop {
            let line = replies
                .next_line()
                .await?
                .ok_or_else(|| anyhow::anyhow!("SMTP connection closed"))?;
            anyhow::ensure!(line.starts_with(code), "expected {code}, got {line}");
            // "250-..." continues a multi-line reply, "250 ..." ends it.
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect("220").await?;
    let message = format!(
        "From: testkit@ticketflow.dev\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n{body}\r\n.\r\n"
    );
    for (command, code) in [
        ("EHLO testkit\r\n".to_owned(), "250"),
        ("MAIL FROM:<testkit@ticketflow.dev>\r\n".to_owned(), "250"),
        (format!("RCPT TO:<{to}>\r\n"), "250"),
        ("DATA\r\n".to_owned(), "354"),
        (message, "250"),
        ("QUIT\r\n".to_owned(), "221"),
    ] {
        write.write_all(command.as_bytes()).await?;
        expect(code).await?;
    }
    Ok(())
}

#[tokio::test]
async fn finds_and_reads_delivered_mail_by_recipient() -> anyhow::Result<()> {
    let mailpit = Mailpit::from_env()?;
    let to = format!("reader-{}@example.com", uuid::Uuid::new_v4().simple());
    let other = format!("other-{}@example.com", uuid::Uuid::new_v4().simple());
    send_mail(&other, "Not for the reader", "noise").await?;
    send_mail(&to, "Hello reader", "first body line").await?;

    let found = mailpit.wait_for(&to, 1, Duration::from_secs(10)).await?;
    assert_eq!(found.len(), 1, "only mail to {to}: {found:?}");
    assert_eq!(found[0].subject, "Hello reader");
    assert_eq!(
        found[0].to.first().map(|a| a.address.as_str()),
        Some(to.as_str())
    );
    let full = mailpit.message(&found[0].id).await?;
    assert!(full.text.contains("first body line"), "{}", full.text);

    let none = format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple());
    assert!(mailpit.to(&none).await?.is_empty());
    assert!(mailpit
        .wait_for(&none, 1, Duration::from_millis(300))
        .await
        .is_err());
    Ok(())
}
