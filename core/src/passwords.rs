//! argon2id password hashing, on a small pool of threads of its own: never on the async
//! executor's threads, at most twice the worker count at once (the rest queue), each thread
//! with one reusable memory buffer (argon2 needs `m` KiB per hash, and allocating that afresh
//! for every hash let the allocator keep gigabytes under a burst of logins), and each at a
//! lower scheduling priority than the workers, so that a burst of logins slows logins, not
//! every other page (measured before: plaintext p99 8 ms during a login storm, with the two
//! hashing threads and the worker sharing one core as equals). Unknown users are verified
//! against a dummy hash so every failed login costs the same.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::errors::SiteError;

/// The niceness of the hashing threads (0 is the workers'; 19 the lowest): low enough that a
/// worker waking for a cheap request preempts a hash at once, high enough that logins still
/// get a fair share of a busy core. Measured with `bench run --scenarios login,storm` on one
/// server core: at 10, logins fell to 16–26% of their rate alone; at 6, plaintext p99 reached
/// 3 ms on rocket; at 7, plaintext p99 0.1–0.5 ms, 60–80% of its quiet rate, logins 21–35%.
pub const HASHING_NICE: i32 = 7;

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

/// A hash or a verification to run on a hashing thread, with that thread's memory.
type Job = Box<dyn FnOnce(&Params, &mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct Passwords {
    /// The queue the hashing threads take jobs from; they end when every sender is gone.
    jobs: Sender<Job>,
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// Starts `2 × workers` hashing threads.
    pub fn new(cost: PasswordCost, workers: usize) -> Result<Self, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| format!("invalid argon2 cost: {e}"))?;
        let mut memory = vec![Block::default(); params.block_count()];
        let dummy_hash = hash_with(&params, "no user has this password", &mut memory)
            .map_err(|e| format!("argon2 failed to hash: {e}"))?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..workers.max(1) * 2 {
            let (queue, params) = (Arc::clone(&queue), params.clone());
            std::thread::Builder::new()
                .name(format!("site-hasher-{n}"))
                .spawn(move || hashing_thread(&queue, &params))
                .map_err(|e| format!("cannot start a hashing thread: {e}"))?;
        }
        Ok(Self {
            jobs,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Runs `work` on a hashing thread and waits for it without blocking the executor.
    async fn off_executor<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Params, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, SiteError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |params, memory| {
            let _ = done.send(work(params, memory));
        });
        self.jobs
            .send(job)
            .map_err(|_| SiteError::Internal("hashing: the hashing threads are gone".into()))?;
        result
            .await
            .map_err(|_| SiteError::Internal("hashing: a hashing thread dropped the job".into()))
    }

    /// A PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, SiteError> {
        self.off_executor(move |params, memory| hash_with(params, &password, memory))
            .await?
            .map_err(|e| SiteError::Internal(format!("argon2: {e}")))
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

/// One hashing thread: lowers its own priority, then runs jobs in its one buffer until the
/// queue's senders are all gone.
fn hashing_thread(queue: &Mutex<Receiver<Job>>, params: &Params) {
    // Lowering one's own priority needs no privilege; where it fails, hashing still works.
    // On Linux, `setpriority(PRIO_PROCESS, 0, ..)` applies to the calling thread only.
    let _ = rustix::process::setpriority_process(None, HASHING_NICE);
    let mut memory = Vec::new();
    loop {
        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = job else { return };
        if memory.is_empty() {
            memory = vec![Block::default(); params.block_count()];
        }
        job(params, &mut memory);
    }
}

/// Hashes into `memory` and formats the PHC string argon2's own `hash_password` would.
fn hash_with(params: &Params, password: &str, memory: &mut [Block]) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
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

    /// The calling thread's niceness, from `/proc/thread-self/stat` (field 19).
    fn own_niceness() -> Option<i32> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let after = &stat[stat.rfind(')')? + 1..];
        after.split_whitespace().nth(16)?.parse().ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn hashes_run_on_two_low_priority_threads_per_worker() {
        let passwords = Passwords::new(PasswordCost::TEST, 1).expect("params");
        let jobs = (0..12).map(|_| {
            let p = passwords.clone();
            tokio::spawn(async move {
                p.off_executor(|_, memory| {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    let name = std::thread::current().name().map(str::to_owned);
                    (name, own_niceness(), memory.len())
                })
                .await
            })
        });
        let mut threads = std::collections::BTreeSet::new();
        for job in jobs {
            let (name, nice, buffer) = job.await.expect("joined").expect("ran");
            let name = name.expect("hashing threads are named");
            assert!(name.starts_with("site-hasher-"), "{name}");
            let blocks = Params::new(64, 1, 1, None).expect("params").block_count();
            assert_eq!(buffer, blocks, "the thread's buffer, sized for the cost");
            if cfg!(target_os = "linux") {
                assert_eq!(nice, Some(HASHING_NICE), "on {name}");
            }
            threads.insert(name);
        }
        assert!(
            (1..=2).contains(&threads.len()),
            "{threads:?}: at most twice the worker count"
        );
        assert_ne!(
            own_niceness(),
            Some(HASHING_NICE),
            "the caller keeps its priority"
        );
    }

    #[test]
    fn default_cost_is_the_contracts() {
        let p = PasswordCost::DEFAULT;
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19456, 2, 1));
    }
}
