//! The SQLite file behind the site: users and sessions, migrated at start-up, WAL journal and
//! `synchronous=FULL` so an acknowledged sign-up survives `kill -9`. Uniqueness of usernames
//! ignoring case is the database's job (a `NOCASE` unique index), so concurrent sign-ups of one
//! name have exactly one winner. Every call runs on tokio's blocking pool, never on executor threads.

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::errors::SiteError;

/// One migration per schema version; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &["CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL COLLATE NOCASE UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX sessions_by_expiry ON sessions(expires_at);"];

#[derive(Debug, Clone)]
pub struct StoredUser {
    pub username: String,
    pub password_hash: String,
    pub created_at: String,
}

/// A cheap handle to the one connection; SQLite serialises writers anyway.
#[derive(Clone)]
pub struct Storage {
    connection: Arc<Mutex<Connection>>,
}

impl Storage {
    /// Opens (creating if needed) and migrates the database; the error names the problem.
    pub fn open(path: &str) -> Result<Self, String> {
        let connection = if path == ":memory:" {
            Connection::open_in_memory()
        } else {
            Connection::open(path)
        }
        .map_err(|e| format!("cannot open database {path}: {e}"))?;
        let setup = || -> rusqlite::Result<()> {
            connection.busy_timeout(std::time::Duration::from_secs(5))?;
            connection.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
            connection.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
            let version: usize = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
                connection.execute_batch(&format!(
                    "BEGIN; {migration}; PRAGMA user_version = {}; COMMIT;",
                    index + 1
                ))?;
            }
            Ok(())
        };
        setup().map_err(|e| format!("cannot use database {path}: {e}"))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, SiteError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let guard = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&guard)
        })
        .await
        .map_err(|e| SiteError::Internal(format!("storage: the blocking task failed: {e}")))?
        .map_err(|e| SiteError::Internal(format!("SQLite: {e}")))
    }

    /// Inserts a user; `UsernameTaken` when the name exists ignoring case.
    pub async fn insert_user(
        &self,
        username: String,
        password_hash: String,
        created_at: String,
    ) -> Result<(), SiteError> {
        let inserted = self
            .with(move |c| {
                match c.execute(
                    "INSERT INTO users (username, password_hash, created_at) VALUES (?1, ?2, ?3)",
                    params![username, password_hash, created_at],
                ) {
                    Ok(_) => Ok(true),
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == ErrorCode::ConstraintViolation =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        if inserted {
            Ok(())
        } else {
            Err(SiteError::UsernameTaken)
        }
    }

    pub async fn find_user(&self, username: String) -> Result<Option<StoredUser>, SiteError> {
        self.with(move |c| {
            c.query_row(
                "SELECT username, password_hash, created_at FROM users WHERE username = ?1",
                [username],
                |r| {
                    Ok(StoredUser {
                        username: r.get(0)?,
                        password_hash: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// The first `limit` users by name ignoring case: (username, created_at).
    pub async fn list_users(&self, limit: u32) -> Result<Vec<(String, String)>, SiteError> {
        self.with(move |c| {
            let mut statement = c.prepare_cached(
                "SELECT username, created_at FROM users ORDER BY username COLLATE NOCASE, username LIMIT ?1",
            )?;
            let rows = statement.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    /// Stores a session by the SHA-256 of its token, dropping expired ones on the way.
    pub async fn insert_session(
        &self,
        token_hash: [u8; 32],
        username: String,
        now: i64,
        expires_at: i64,
    ) -> Result<(), SiteError> {
        self.with(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, expires_at)
                 SELECT ?1, id, ?3 FROM users WHERE username = ?2",
                params![token_hash, username, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    /// The username owning an unexpired session with this token hash, and when it expires.
    pub async fn session_user(
        &self,
        token_hash: [u8; 32],
        now: i64,
    ) -> Result<Option<(String, i64)>, SiteError> {
        self.with(move |c| {
            c.prepare_cached(
                "SELECT u.username, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            )?
            .query_row(params![token_hash, now], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
        })
        .await
    }

    pub async fn delete_session(&self, token_hash: [u8; 32]) -> Result<(), SiteError> {
        self.with(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn usernames_are_unique_ignoring_case_and_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("site.db");
        let path = path.to_str().expect("utf-8 path");
        let storage = Storage::open(path).expect("open");
        storage
            .insert_user("Ada".into(), "h".into(), "t".into())
            .await
            .expect("first");
        assert_eq!(
            storage
                .insert_user("aDA".into(), "h".into(), "t".into())
                .await,
            Err(SiteError::UsernameTaken)
        );
        drop(storage);
        let reopened = Storage::open(path).expect("reopen");
        let found = reopened.find_user("ada".into()).await.expect("query");
        assert_eq!(found.map(|u| u.username), Some("Ada".to_owned()));
    }

    #[tokio::test]
    async fn sessions_expire_and_delete() {
        let storage = Storage::open(":memory:").expect("open");
        storage
            .insert_user("ada".into(), "h".into(), "t".into())
            .await
            .expect("user");
        storage
            .insert_session([1; 32], "ada".into(), 100, 200)
            .await
            .expect("session");
        assert_eq!(
            storage.session_user([1; 32], 150).await,
            Ok(Some(("ada".into(), 200)))
        );
        assert_eq!(storage.session_user([1; 32], 200).await, Ok(None));
        assert_eq!(storage.session_user([2; 32], 150).await, Ok(None));
        storage.delete_session([1; 32]).await.expect("delete");
        assert_eq!(storage.session_user([1; 32], 150).await, Ok(None));
    }

    #[test]
    fn unusable_path_names_the_problem() {
        let error = Storage::open("/nonexistent-dir/x/site.db")
            .err()
            .expect("fails");
        assert!(error.contains("/nonexistent-dir/x/site.db"), "{error}");
    }
}
