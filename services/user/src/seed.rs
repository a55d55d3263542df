//! `user-service seed-users`: the demo accounts, idempotently.
//!
//! There is no HTTP way to create an administrator; this is the only one. An account that
//! exists keeps its id, name and password; the admin account is promoted to ADMIN if needed.
//! A created account gets its `user.registered` outbox row, published by the running
//! service's relay (so seeding works while Kafka is down).

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use ticketflow_common::config::Secret;
use ticketflow_common::Role;
use uuid::Uuid;

use crate::accounts;
use crate::domain::user::User;
use crate::error::UserError;
use crate::password::Passwords;
use crate::store::{self, users};

pub struct DemoAccount {
    pub name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub role: Role,
}

pub const DEMO_ACCOUNTS: [DemoAccount; 2] = [
    DemoAccount {
        name: "Test User",
        email: "test@ticketflow.dev",
        password: "Test1234!",
        role: Role::User,
    },
    DemoAccount {
        name: "Admin",
        email: "admin@ticketflow.dev",
        password: "Admin1234!",
        role: Role::Admin,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStatus {
    Created,
    Unchanged,
    Promoted,
}

impl SeedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Unchanged => "unchanged",
            Self::Promoted => "promoted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOutcome {
    pub email: String,
    pub id: Uuid,
    pub role: Role,
    pub status: SeedStatus,
}

impl fmt::Display for SeedOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<22} {:<9} id={} role={}",
            self.email,
            self.status.as_str(),
            self.id,
            self.role.as_str()
        )
    }
}

/// Applies the schema, then makes sure every demo account exists with at least its role.
pub async fn seed_users(pool: &PgPool) -> anyhow::Result<Vec<SeedOutcome>> {
    store::migrate(pool).await.context("applying the schema")?;
    let passwords = Passwords::default();
    let mut outcomes = Vec::with_capacity(DEMO_ACCOUNTS.len());
    for account in &DEMO_ACCOUNTS {
        outcomes.push(ensure(pool, &passwords, account).await?);
    }
    Ok(outcomes)
}

async fn ensure(
    pool: &PgPool,
    passwords: &Passwords,
    account: &DemoAccount,
) -> anyhow::Result<SeedOutcome> {
    let outcome = |user: &User, status| SeedOutcome {
        email: user.email.clone(),
        id: user.id,
        role: user.role,
        status,
    };
    if users::find_by_email(pool, account.email).await?.is_none() {
        let hash = passwords.hash(&Secret::new(account.password)).await?;
        let user = User::new(
            account.name.to_owned(),
            account.email.to_owned(),
            hash,
            account.role,
        );
        match accounts::create(pool, &user).await {
            Ok(()) => return Ok(outcome(&user, SeedStatus::Created)),
            // Registered by someone else in the meantime: treat it as existing.
            Err(UserError::EmailTaken) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let user = users::find_by_email(pool, account.email)
        .await?
        .with_context(|| format!("{} vanished while seeding", account.email))?;
    if user.role == account.role || account.role != Role::Admin {
        return Ok(outcome(&user, SeedStatus::Unchanged));
    }
    // Someone may have registered the demo address first. Only the demo password proves the
    // account is the demo one; anything else would hand ADMIN to whoever got there first.
    if !passwords
        .verify(&Secret::new(account.password), &user.password_hash)
        .await?
    {
        anyhow::bail!(
            "{} already exists as a {} account with a password that is not the demo one: \
             refusing to make it ADMIN (someone else registered it; remove that account, \
             then seed again)",
            account.email,
            user.role.as_str()
        );
    }
    let promoted = users::promote_to_admin(pool, account.email)
        .await?
        .unwrap_or(user);
    Ok(outcome(&promoted, SeedStatus::Promoted))
}

/// Connects to `database_url` (retrying for up to `wait` while PostgreSQL starts) and seeds.
pub async fn seed_database(database_url: &str, wait: Duration) -> anyhow::Result<Vec<SeedOutcome>> {
    let options = store::connect_options(database_url).context("USER_DB_URL")?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut delay = Duration::from_millis(250);
    let pool = loop {
        match PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => break pool,
            Err(err) if tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(error = %err, "PostgreSQL not reachable yet, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err).context("connecting to USER_DB_URL"),
        }
    };
    let outcomes = seed_users(&pool).await;
    pool.close().await;
    outcomes
}
