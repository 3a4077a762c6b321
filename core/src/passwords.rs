//! argon2id password hashing. Hashes run on tokio's blocking pool, never on executor threads,
//! and at most twice the worker count at once, so a burst of logins cannot exhaust memory.
//! Unknown users are verified against a dummy hash so every failed login costs the same.

use std::sync::Arc;

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
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
    argon2: Arc<Argon2<'static>>,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(cost: PasswordCost, workers: usize) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| format!("invalid argon2 cost: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"no user has this password", &salt)
            .map_err(|e| format!("argon2 failed: {e}"))?
            .to_string();
        Ok(Self {
            argon2: Arc::new(argon2),
            permits: Arc::new(Semaphore::new(workers.max(1) * 2)),
            dummy_hash: dummy_hash.into(),
        })
    }

    async fn off_executor<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T, SiteError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SiteError::Internal)?;
        let argon2 = Arc::clone(&self.argon2);
        tokio::task::spawn_blocking(move || work(&argon2))
            .await
            .map_err(|_| SiteError::Internal)
    }

    /// A PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, SiteError> {
        self.off_executor(move |argon2| {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|_| SiteError::Internal)
        })
        .await?
    }

    /// Verifies against `hash`, or against the dummy hash when there is no user (always false).
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, SiteError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .off_executor(move |argon2| {
                PasswordHash::new(&hash).is_ok_and(|parsed| {
                    argon2.verify_password(password.as_bytes(), &parsed).is_ok()
                })
            })
            .await?;
        Ok(known && matches)
    }
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

    #[test]
    fn default_cost_is_the_contracts() {
        let p = PasswordCost::DEFAULT;
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19456, 2, 1));
    }
}
