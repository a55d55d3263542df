//! Reads what the services delivered to Mailpit (`MAILPIT_URL`, e.g. http://127.0.0.1:8025).

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    #[serde(rename = "ID")]
    pub id: String,
    pub subject: String,
    pub to: Vec<Address>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub address: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Full {
    #[serde(rename = "ID")]
    pub id: String,
    pub subject: String,
    pub text: String,
    #[serde(rename = "HTML")]
    pub html: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub message_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    #[serde(rename = "PartID")]
    pub part_id: String,
    pub file_name: String,
    pub content_type: String,
}

#[derive(Deserialize)]
struct SearchResult {
    messages: Vec<Summary>,
}

pub struct Mailpit {
    base: String,
    http: reqwest::Client,
}

impl Mailpit {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            base: super::setting("MAILPIT_URL")?,
            http: reqwest::Client::new(),
        })
    }

    /// Messages addressed to `recipient` (newest first).
    pub async fn to(&self, recipient: &str) -> anyhow::Result<Vec<Summary>> {
        let result: SearchResult = self
            .http
            .get(format!("{}/api/v1/search", self.base))
            .query(&[("query", format!("to:\"{recipient}\""))])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(result.messages)
    }

    pub async fn message(&self, id: &str) -> anyhow::Result<Full> {
        Ok(self
            .http
            .get(format!("{}/api/v1/message/{id}", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// The bytes of one part of a message (an attachment's `part_id`).
    pub async fn part(&self, id: &str, part_id: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .http
            .get(format!("{}/api/v1/message/{id}/part/{part_id}", self.base))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?
            .to_vec())
    }

    /// Waits until `count` messages to `recipient` have arrived.
    pub async fn wait_for(
        &self,
        recipient: &str,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Summary>> {
        super::eventually(
            timeout,
            &format!("{count} mail(s) to {recipient}"),
            || async {
                let found = self.to(recipient).await?;
                Ok((found.len() >= count).then_some(found))
            },
        )
        .await
    }
}
