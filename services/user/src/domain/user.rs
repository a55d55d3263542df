//! A user account and its public JSON view.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ticketflow_common::Role;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    /// Trimmed and lowercased.
    pub email: String,
    /// argon2id PHC string; never leaves the service.
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// A new account, created now, with a fresh id.
    pub fn new(name: String, email: String, password_hash: String, role: Role) -> Self {
        let now = ticketflow_common::time::now();
        Self {
            id: Uuid::new_v4(),
            name,
            email,
            password_hash,
            role,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            created_at: self.created_at,
        }
    }
}

/// `{"id","name","email","role","createdAt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    /// Trimmed and lowercased.
    pub email: String,
    pub role: Role,
    /// RFC 3339 UTC with milliseconds, e.g. `2025-01-01T12:00:00.000Z`.
    #[serde(with = "ticketflow_common::time::millis")]
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_has_contract_fields_and_no_hash() -> anyhow::Result<()> {
        let user = User::new(
            "Ada".into(),
            "ada@example.com".into(),
            "$argon2id$secret".into(),
            Role::Admin,
        );
        let value = serde_json::to_value(user.view())?;
        let mut keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(keys, ["createdAt", "email", "id", "name", "role"]);
        assert_eq!(value["role"], "ADMIN");
        assert_eq!(value["id"], user.id.to_string());
        let created = value["createdAt"].as_str().unwrap_or_default();
        assert!(created.ends_with('Z') && created.len() == 24, "{created}");
        Ok(())
    }
}
