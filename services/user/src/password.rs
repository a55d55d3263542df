//! argon2id password hashing (PHC strings), off the async threads.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU, so the number running at once is
//! capped: a burst of registrations or logins queues instead of exhausting memory.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ticketflow_common::config::Secret;
use tokio::sync::{OnceCell, Semaphore};

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
            permits: Arc::new(Semaphore::new(cores.max(1) * 2)),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// The argon2id PHC string of `password` with a fresh random salt.
    pub async fn hash(&self, password: &Secret) -> anyhow::Result<String> {
        let password = password.clone();
        let cost = self.cost;
        self.blocking(move || hash_now(cost, password.expose()))
            .await
    }

    /// Whether `password` matches the PHC string `stored`.
    pub async fn verify(&self, password: &Secret, stored: &str) -> anyhow::Result<bool> {
        let password = password.clone();
        let stored = stored.to_owned();
        self.blocking(move || verify_now(password.expose(), &stored))
            .await
    }

    /// Computes the dummy hash ahead of the first login for an unknown e-mail, so even that
    /// one costs no more than a real verification.
    pub async fn warm_up(&self) -> anyhow::Result<()> {
        self.dummy_hash().await.map(drop)
    }

    async fn dummy_hash(&self) -> anyhow::Result<String> {
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
    pub async fn verify_dummy(&self, password: &Secret) -> anyhow::Result<bool> {
        let dummy = self.dummy_hash().await?;
        self.verify(password, &dummy).await?;
        Ok(false)
    }

    async fn blocking<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce() -> anyhow::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hashing pool closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("password hashing task failed")?
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
