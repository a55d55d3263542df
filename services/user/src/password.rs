//! argon2id password hashing (PHC strings), off the async threads.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU, so the number running at once is
//! capped at the number of cores: a burst of registrations or logins queues (for a bounded
//! time, then `503`) instead of exhausting memory. The permit travels with the blocking task,
//! so a request cancelled mid-hash keeps its slot until the hash really ends.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ticketflow_common::config::Secret;
use ticketflow_common::ApiError;
use tokio::sync::{OnceCell, Semaphore};

/// How long a request waits for a hashing slot before answering `503`.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot stayed busy for [`QUEUE_WAIT`].
    #[error("password hashing is saturated")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<PasswordError> for ApiError {
    fn from(err: PasswordError) -> Self {
        match err {
            PasswordError::Busy => {
                ApiError::unavailable("Too many sign-ins at once, try again shortly")
            }
            PasswordError::Failed(err) => ApiError::Internal(err),
        }
    }
}

/// argon2id cost parameters for new hashes. Verification always uses the parameters stored in
/// the PHC string, so changing the cost never locks anyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PasswordCost {
    /// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane); what the service always uses.
    pub const RECOMMENDED: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
    /// For tests only: unoptimised debug builds of argon2 take over a second per
    /// RECOMMENDED hash, which would dominate the test suite's time.
    pub const TEST_ONLY_MINIMAL: Self = Self {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    fn hasher(self) -> anyhow::Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

#[derive(Clone)]
pub struct Passwords {
    cost: PasswordCost,
    permits: Arc<Semaphore>,
    queue_wait: Duration,
    /// A hash of a random password, verified against when the e-mail is unknown so both
    /// login failures cost the same time.
    dummy: Arc<OnceCell<String>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(PasswordCost::RECOMMENDED)
    }
}

impl Passwords {
    pub fn new(cost: PasswordCost) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            cost,
            permits: Arc::new(Semaphore::new(cores.max(1))),
            queue_wait: QUEUE_WAIT,
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// The argon2id PHC string of `password` with a fresh random salt.
    pub async fn hash(&self, password: &Secret) -> Result<String, PasswordError> {
        let password = password.clone();
        let cost = self.cost;
        self.blocking(move || hash_now(cost, password.expose()))
            .await
    }

    /// Whether `password` matches the PHC string `stored`.
    pub async fn verify(&self, password: &Secret, stored: &str) -> Result<bool, PasswordError> {
        let password = password.clone();
        let stored = stored.to_owned();
        self.blocking(move || verify_now(password.expose(), &stored))
            .await
    }

    /// Computes the dummy hash ahead of the first login for an unknown e-mail, so even that
    /// one costs no more than a real verification.
    pub async fn warm_up(&self) -> Result<(), PasswordError> {
        self.dummy_hash().await.map(drop)
    }

    async fn dummy_hash(&self) -> Result<String, PasswordError> {
        let hash = self
            .dummy
            .get_or_try_init(|| async {
                let random = Secret::new(uuid::Uuid::new_v4().to_string());
                self.hash(&random).await
            })
            .await?;
        Ok(hash.clone())
    }

    /// Spends the time of one `verify` and always answers `false`.
    pub async fn verify_dummy(&self, password: &Secret) -> Result<bool, PasswordError> {
        let dummy = self.dummy_hash().await?;
        self.verify(password, &dummy).await?;
        Ok(false)
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        F: FnOnce() -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit =
            tokio::time::timeout(self.queue_wait, Arc::clone(&self.permits).acquire_owned())
                .await
                .map_err(|_| PasswordError::Busy)?
                .context("password hashing pool closed")?;
        let result = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .context("password hashing task failed")?;
        Ok(result?)
    }
}

fn hash_now(cost: PasswordCost, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    cost.hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn verify_now(password: &str, stored: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    // `verify_password` takes algorithm, version and cost from the PHC string itself.
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(anyhow::anyhow!("verifying password: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() -> anyhow::Result<()> {
        let passwords = Passwords::new(PasswordCost::TEST_ONLY_MINIMAL);
        let secret = Secret::new("Test1234!");
        let hash = passwords.hash(&secret).await?;
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert_ne!(hash, passwords.hash(&secret).await?, "salt must differ");
        assert!(passwords.verify(&secret, &hash).await?);
        assert!(!passwords.verify(&Secret::new("Test1234?"), &hash).await?);
        assert!(!passwords.verify_dummy(&secret).await?);
        assert!(passwords.verify(&secret, "not a phc string").await.is_err());
        Ok(())
    }

    #[tokio::test]
    async fn a_cancelled_hash_keeps_its_slot_until_the_hash_ends() -> anyhow::Result<()> {
        let passwords = Passwords::new(PasswordCost::TEST_ONLY_MINIMAL);
        let slots = passwords.permits.available_permits();
        let started = Arc::new(std::sync::Barrier::new(2));
        let release = Arc::new(std::sync::Barrier::new(2));
        let (in_task, out_task) = (Arc::clone(&started), Arc::clone(&release));
        let running = passwords.blocking(move || {
            in_task.wait();
            out_task.wait();
            Ok(())
        });
        // Cancel the request once its hash is running.
        tokio::select! {
            _ = running => anyhow::bail!("the work cannot finish before it is released"),
            joined = tokio::task::spawn_blocking(move || { started.wait(); }) => joined?,
        }
        assert_eq!(
            passwords.permits.available_permits(),
            slots - 1,
            "the abandoned hash still runs, so it still holds its slot"
        );
        tokio::task::spawn_blocking(move || release.wait()).await?;
        for _ in 0..200 {
            if passwords.permits.available_permits() == slots {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::bail!("the slot was not given back after the hash ended")
    }

    #[tokio::test]
    async fn a_saturated_pool_answers_busy_not_forever() -> anyhow::Result<()> {
        let mut passwords = Passwords::new(PasswordCost::TEST_ONLY_MINIMAL);
        passwords.queue_wait = Duration::from_millis(20);
        let held = Arc::clone(&passwords.permits)
            .acquire_many_owned(u32::try_from(passwords.permits.available_permits())?)
            .await?;
        let err = passwords.hash(&Secret::new("Test1234!")).await.err();
        assert!(matches!(err, Some(PasswordError::Busy)), "{err:?}");
        let api: ApiError = PasswordError::Busy.into();
        assert_eq!(api.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        drop(held);
        Ok(())
    }

    #[tokio::test]
    async fn recommended_cost_is_what_production_stores() -> anyhow::Result<()> {
        let secret = Secret::new("Admin1234!");
        let hash = Passwords::default().hash(&secret).await?;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        // Verification follows the stored parameters, whatever the verifier's own cost.
        let cheap = Passwords::new(PasswordCost::TEST_ONLY_MINIMAL);
        assert!(cheap.verify(&secret, &hash).await?);
        Ok(())
    }
}
