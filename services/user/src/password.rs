//! argon2id password hashing (PHC strings), off the async threads.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU, so the number running at once is
//! capped at the number of cores: a burst of registrations or logins queues (for a bounded
//! time, then `503`) instead of exhausting memory. The permit travels with the blocking task,
//! so a request cancelled mid-hash keeps its slot until the hash really ends.
//!
//! argon2's working memory is kept between hashes, one buffer per slot ([`Scratch`]). Letting
//! argon2 allocate and free 19 MiB per hash, on whichever blocking thread ran it, left every
//! thread's malloc arena holding its own copy: 10 MiB idle became ~360 MiB after a login
//! burst and stayed there. With reuse the service settles at idle + slots × 19 MiB.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use ticketflow_common::config::Secret;
use tokio::sync::{OnceCell, Semaphore};

/// How long a request waits for a hashing slot before answering `503`.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// The largest memory cost accepted from a stored hash (64 MiB), so a tampered row cannot make
/// one login allocate gigabytes.
const MAX_MEMORY_KIB: u32 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot stayed busy for [`QUEUE_WAIT`].
    #[error("password hashing is saturated")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
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

    fn params(self) -> anyhow::Result<Params> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))
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
    scratch: Scratch,
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
            scratch: Scratch::default(),
            queue_wait: QUEUE_WAIT,
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// The argon2id PHC string of `password` with a fresh random salt.
    pub async fn hash(&self, password: &Secret) -> Result<String, PasswordError> {
        let password = password.clone();
        let cost = self.cost;
        let scratch = self.scratch.clone();
        self.blocking(move || hash_now(cost, password.expose(), &scratch))
            .await
    }

    /// Whether `password` matches the PHC string `stored`.
    pub async fn verify(&self, password: &Secret, stored: &str) -> Result<bool, PasswordError> {
        let password = password.clone();
        let stored = stored.to_owned();
        let scratch = self.scratch.clone();
        self.blocking(move || verify_now(password.expose(), &stored, &scratch))
            .await
    }

    /// Computes the dummy hash ahead of the first login for an unknown e-mail, so even that
    /// one costs no more than a real verification.
    /// Its working memory is released after: an idle service holds none (19 MiB less RSS
    /// at idle; the first logins allocate their slots' buffers again).
    pub async fn warm_up(&self) -> Result<(), PasswordError> {
        self.dummy_hash().await?;
        self.scratch.release();
        Ok(())
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

/// argon2 working memory kept for reuse: at most one buffer per hashing slot is ever in use, so
/// the pool holds at most that many, each allocated once (and grown only for a larger cost).
#[derive(Clone, Default)]
struct Scratch(Arc<std::sync::Mutex<Vec<Vec<Block>>>>);

impl Scratch {
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        // A poisoned lock only means another hash panicked; a fresh buffer is always correct.
        let reused = self.0.lock().ok().and_then(|mut pool| pool.pop());
        let mut buffer = reused.unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::default());
        }
        // Old contents never leak into a hash: argon2's first pass overwrites every block.
        let result = work(&mut buffer[..blocks]);
        if let Ok(mut pool) = self.0.lock() {
            pool.push(buffer);
        }
        result
    }

    /// Frees the kept buffers (those in use stay with their hash and come back after).
    fn release(&self) {
        if let Ok(mut pool) = self.0.lock() {
            *pool = Vec::new();
        }
    }

    #[cfg(test)]
    fn buffers(&self) -> usize {
        self.0.lock().map(|pool| pool.len()).unwrap_or(0)
    }
}

/// What `Argon2::hash_password` does, with the working memory from `scratch`.
fn compute<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
    scratch: &Scratch,
) -> anyhow::Result<PasswordHash<'a>> {
    anyhow::ensure!(
        params.m_cost() <= MAX_MEMORY_KIB,
        "argon2 memory cost {} KiB is above the {MAX_MEMORY_KIB} KiB this service accepts",
        params.m_cost()
    );
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        scratch.with(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks)
        })?;
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt),
        hash: Some(output),
    })
}

fn hash_now(cost: PasswordCost, password: &str, scratch: &Scratch) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = compute(
        Algorithm::Argon2id,
        Version::V0x13,
        cost.params()?,
        password.as_bytes(),
        salt.as_salt(),
        scratch,
    )?;
    Ok(hash.to_string())
}

/// Algorithm, version and cost come from the PHC string itself, so changing the cost of new
/// hashes never locks anyone out. The comparison is constant-time (`Output`'s `PartialEq`).
fn verify_now(password: &str, stored: &str, scratch: &Scratch) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    let invalid = |what: &str| anyhow::anyhow!("stored hash: invalid {what}");
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| invalid("algorithm"))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|_| invalid("version"))?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|_| invalid("parameters"))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(invalid("salt or hash"));
    };
    let computed = compute(
        algorithm,
        version,
        params,
        password.as_bytes(),
        salt,
        scratch,
    )?;
    Ok(computed.hash == Some(expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_phc_code() -> anyhow::Result<()> {
        let scratch = Scratch::default();
        let ours = hash_now(PasswordCost::TEST_ONLY_MINIMAL, "Test1234!", &scratch)?;
        let parsed = PasswordHash::new(&ours).map_err(|e| anyhow::anyhow!("{e}"))?;
        assert!(Argon2::default()
            .verify_password(b"Test1234!", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"Test1234?", &parsed)
            .is_err());

        // Hashes stored by the crate's own hasher (and by any other cost) still verify.
        let params = Params::new(2048, 2, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"hunter2", &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string();
        assert!(verify_now("hunter2", &theirs, &scratch)?);
        assert!(!verify_now("hunter3", &theirs, &scratch)?);
        assert_eq!(
            scratch.buffers(),
            1,
            "one buffer, reused (and grown) for both costs"
        );
        Ok(())
    }

    #[test]
    fn stored_hashes_with_absurd_memory_costs_are_refused() {
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = verify_now("x", huge, &Scratch::default()).err();
        assert!(
            err.is_some_and(|e| e.to_string().contains("memory cost")),
            "a 4 GiB cost must not be computed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn working_memory_is_reused_not_reallocated_per_hash() -> anyhow::Result<()> {
        let passwords = Passwords::new(PasswordCost::TEST_ONLY_MINIMAL);
        let slots = passwords.permits.available_permits();
        let secret = Secret::new("Test1234!");
        let burst: Vec<_> = (0..32)
            .map(|_| {
                let passwords = passwords.clone();
                let secret = secret.clone();
                tokio::spawn(async move { passwords.hash(&secret).await })
            })
            .collect();
        for hash in burst {
            hash.await??;
        }
        let buffers = passwords.scratch.buffers();
        assert!(
            (1..=slots).contains(&buffers),
            "{buffers} buffers for {slots} slots"
        );
        Ok(())
    }

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
    async fn warm_up_keeps_the_dummy_hash_but_no_working_memory() -> anyhow::Result<()> {
        let passwords = Passwords::new(PasswordCost::TEST_ONLY_MINIMAL);
        passwords.warm_up().await?;
        assert_eq!(
            passwords.scratch.buffers(),
            0,
            "idle holds no argon2 memory"
        );
        assert!(passwords.dummy.get().is_some());
        assert!(!passwords.verify_dummy(&Secret::new("Test1234!")).await?);
        assert_eq!(
            passwords.scratch.buffers(),
            1,
            "a login takes a buffer again"
        );
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
        let api =
            ticketflow_common::ApiError::from(crate::error::UserError::from(PasswordError::Busy));
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
