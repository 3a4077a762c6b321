//! argon2id password hashing. Hashes run on tokio's blocking pool, never on executor threads,
//! at most twice the worker count at once (the rest wait), each in one of as many reusable
//! memory buffers: argon2 needs `m` KiB per hash, and allocating that afresh for every hash
//! let the allocator keep gigabytes under a burst of logins (measured: 2 GiB after 100
//! logins), so a burst can no longer exhaust memory. Unknown users are verified against a
//! dummy hash so every failed login costs the same.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::errors::SiteError;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PasswordCost {
    /// The contract's default: m=19456 KiB, t=2, p=1 (OWASP's argon2id minimum).
    pub const DEFAULT: Self = Self {
        memory_kib: 19456,
        iterations: 2,
        parallelism: 1,
    };
    /// For tests only: keeps debug test runs fast; never used by the binaries.
    pub const TEST: Self = Self {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
}

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    /// Memory for the hashes under way: never more buffers than permits.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(cost: PasswordCost, workers: usize) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| format!("invalid argon2 cost: {e}"))?;
        let mut passwords = Self {
            params,
            permits: Arc::new(Semaphore::new(workers.max(1) * 2)),
            buffers: Arc::new(Mutex::new(Vec::new())),
            dummy_hash: Arc::from(""),
        };
        let mut memory = passwords.take_buffer();
        let dummy = hash_with(&passwords.params, "no user has this password", &mut memory)
            .map_err(|_| "argon2 failed to hash".to_owned())?;
        passwords.give_back(memory);
        passwords.dummy_hash = dummy.into();
        Ok(passwords)
    }

    fn take_buffer(&self) -> Vec<Block> {
        let reused = self.buffers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        reused.unwrap_or_else(|| vec![Block::default(); self.params.block_count()])
    }

    fn give_back(&self, buffer: Vec<Block>) {
        self.buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(buffer);
    }

    /// Runs `work` on the blocking pool with a permit and a memory buffer.
    async fn off_executor<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Params, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, SiteError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SiteError::Internal)?;
        let mut memory = self.take_buffer();
        let params = self.params.clone();
        let (result, memory) = tokio::task::spawn_blocking(move || {
            let result = work(&params, &mut memory);
            (result, memory)
        })
        .await
        .map_err(|_| SiteError::Internal)?;
        self.give_back(memory);
        Ok(result)
    }

    /// A PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, SiteError> {
        self.off_executor(move |params, memory| hash_with(params, &password, memory))
            .await?
            .map_err(|()| SiteError::Internal)
    }

    /// Verifies against `hash`, or against the dummy hash when there is no user (always false).
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, SiteError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .off_executor(move |_, memory| verify_with(&password, &hash, memory))
            .await?;
        Ok(known && matches)
    }
}

/// Hashes into `memory` and formats the PHC string argon2's own `hash_password` would.
fn hash_with(params: &Params, password: &str, memory: &mut [Block]) -> Result<String, ()> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|_| ())?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
        .map_err(|_| ())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|_| ())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| ())?),
    };
    Ok(phc.to_string())
}

/// Recomputes `phc` for `password` in `memory` (or a buffer of its own, for a hash made at
/// another cost) and compares in constant time.
fn verify_with(password: &str, phc: &str, memory: &mut [Block]) -> bool {
    let mut check = || -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .ok()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = parsed.salt?.decode_b64(&mut salt_bytes).ok()?;
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut own;
        let blocks = if memory.len() >= params.block_count() {
            &mut memory[..params.block_count()]
        } else {
            own = vec![Block::default(); params.block_count()];
            &mut own[..]
        };
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, blocks)
            .ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(&out).ok()? == expected)
    };
    check().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let passwords = Passwords::new(PasswordCost::TEST, 1).expect("params");
        let hash = passwords.hash("correct horse".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_eq!(
            passwords
                .verify("correct horse".into(), Some(hash.clone()))
                .await,
            Ok(true)
        );
        assert_eq!(
            passwords.verify("wrong horse".into(), Some(hash)).await,
            Ok(false)
        );
        assert_eq!(
            passwords
                .verify("no user has this password".into(), None)
                .await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn hashes_interoperate_with_argon2s_own_phc_functions() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let passwords = Passwords::new(PasswordCost::TEST, 1).expect("params");
        let ours = passwords.hash("correct horse".into()).await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // A hash made elsewhere at another cost still verifies (with its own memory).
        let params = Params::new(128, 2, 1, None).expect("params");
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"battery staple", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert_eq!(
            passwords
                .verify("battery staple".into(), Some(theirs.clone()))
                .await,
            Ok(true)
        );
        assert_eq!(
            passwords
                .verify("battery stapler".into(), Some(theirs))
                .await,
            Ok(false)
        );
        assert_eq!(
            passwords
                .verify("x".into(), Some("not a PHC string".into()))
                .await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn memory_buffers_never_outnumber_permits() {
        let passwords = Passwords::new(PasswordCost::TEST, 1).expect("params");
        let hashes = (0..20).map(|i| {
            let p = passwords.clone();
            tokio::spawn(async move { p.hash(format!("password {i}")).await })
        });
        for h in hashes {
            assert!(h.await.expect("joined").is_ok());
        }
        let buffers = passwords.buffers.lock().expect("lock").len();
        assert!(
            (1..=2).contains(&buffers),
            "{buffers} buffers for 2 permits"
        );
    }

    #[test]
    fn default_cost_is_the_contracts() {
        let p = PasswordCost::DEFAULT;
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19456, 2, 1));
    }
}
