//! Account operations: registering, signing in, looking an account up. Handlers validate the
//! body and shape the JSON; everything else happens here and fails with a [`UserError`].

use sqlx::PgPool;
use ticketflow_common::kafka::messages::UserRegistered;
use ticketflow_common::{outbox, Role};
use uuid::Uuid;

use crate::domain::user::User;
use crate::domain::validation::{Credentials, Registration, EMAIL_MAX_BYTES, PASSWORD_MAX_BYTES};
use crate::error::UserError;
use crate::password::Passwords;
use crate::store::users;

/// Creates a `USER` account from a valid registration.
pub async fn register(
    pool: &PgPool,
    passwords: &Passwords,
    registration: Registration,
) -> Result<User, UserError> {
    // Cheap early answer; the unique index is what actually guarantees uniqueness.
    if users::email_exists(pool, &registration.email).await? {
        return Err(UserError::EmailTaken);
    }
    let hash = passwords.hash(&registration.password).await?;
    let user = User::new(registration.name, registration.email, hash, Role::User);
    create(pool, &user).await?;
    Ok(user)
}

/// The account these credentials open. Unknown e-mail and wrong password fail alike, after the
/// same amount of hashing work.
pub async fn sign_in(
    pool: &PgPool,
    passwords: &Passwords,
    credentials: &Credentials,
) -> Result<User, UserError> {
    // No account can match these (registration never accepts them): skip the work.
    if credentials.email.len() > EMAIL_MAX_BYTES
        || credentials.password.expose().len() > PASSWORD_MAX_BYTES
    {
        return Err(UserError::InvalidCredentials);
    }
    let user = users::find_by_email(pool, &credentials.email).await?;
    let matches = match &user {
        Some(user) => {
            passwords
                .verify(&credentials.password, &user.password_hash)
                .await?
        }
        None => passwords.verify_dummy(&credentials.password).await?,
    };
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(UserError::InvalidCredentials),
    }
}

/// The account `id` names; `AccountGone` when it has been deleted.
pub async fn find(pool: &PgPool, id: Uuid) -> Result<User, UserError> {
    users::find_by_id(pool, id)
        .await?
        .ok_or(UserError::AccountGone)
}

/// Inserts `user` and queues `ticketflow.user.registered` (key = user id) in one transaction,
/// so the message is published if and only if the row exists.
pub async fn create(pool: &PgPool, user: &User) -> Result<(), UserError> {
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
