//! Creating an account: the row and its `user.registered` message commit together.

use sqlx::PgPool;
use ticketflow_common::kafka::messages::UserRegistered;
use ticketflow_common::outbox;

use crate::domain::user::User;
use crate::store::users::{self, InsertError};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("email already registered")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<InsertError> for CreateError {
    fn from(err: InsertError) -> Self {
        match err {
            InsertError::EmailTaken => Self::EmailTaken,
            InsertError::Db(db) => Self::Db(db),
        }
    }
}

/// Inserts `user` and queues `ticketflow.user.registered` (key = user id) in one transaction,
/// so the message is published if and only if the row exists.
pub async fn create(pool: &PgPool, user: &User) -> Result<(), CreateError> {
    let mut tx = pool.begin().await?;
    users::insert(&mut tx, user).await?;
    outbox::enqueue(
        &mut tx,
        UserRegistered {
            user_id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
