//! The `users` table.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use ticketflow_common::Role;
use uuid::Uuid;

use crate::domain::user::User;

/// The unique index on `lower(email)`; a violation means the address is taken.
pub const EMAIL_UNIQUE_INDEX: &str = "users_email_key";

const COLUMNS: &str = "id, name, email, password_hash, role, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    name: String,
    email: String,
    password_hash: String,
    role: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = sqlx::Error;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role = Role::parse(&row.role).ok_or_else(|| {
            sqlx::Error::Decode(anyhow!("unknown role {:?} for user {}", row.role, row.id).into())
        })?;
        Ok(User {
            id: row.id,
            name: row.name,
            email: row.email,
            password_hash: row.password_hash,
            role,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Inserts `user`. A taken address (case-insensitively) violates [`EMAIL_UNIQUE_INDEX`].
pub async fn insert(conn: &mut PgConnection, user: &User) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, name, email, password_hash, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.id)
    .bind(&user.name)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.created_at)
    .bind(user.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// `email` must be normalised (trimmed, lowercased).
pub async fn email_exists(pool: &PgPool, email: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))")
        .bind(email)
        .fetch_one(pool)
        .await
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(pool)
    .await?
    .map(User::try_from)
    .transpose()
}

pub async fn find_by_id(pool: &PgPool, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(User::try_from)
        .transpose()
}

/// Sets the role of the account with `email` to ADMIN unless it is already; returns the
/// promoted user, or `None` when nothing changed.
pub async fn promote_to_admin(pool: &PgPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "UPDATE users SET role = 'ADMIN', updated_at = now()
         WHERE lower(email) = lower($1) AND role <> 'ADMIN'
         RETURNING {COLUMNS}"
    ))
    .bind(email)
    .fetch_optional(pool)
    .await?
    .map(User::try_from)
    .transpose()
}
