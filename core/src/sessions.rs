//! Server-side sessions: the random token a login hands out, the SHA-256 of it that the store
//! keeps, the `sitebench_session` cookie that carries it, its 24-hour lifetime, and the
//! sessions in use remembered in memory in front of the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "sitebench_session";
pub const LIFETIME_SECS: i64 = 24 * 60 * 60;

/// A session token: 32 random bytes (256 bits), which the cookie carries in lowercase hex.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken([u8; 32]);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    /// A new token from a CSPRNG (`rand`'s thread-local ChaCha, seeded by the OS).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The token in a request's cookies, if it is well-formed; an altered one is `None`.
    pub fn from_request(headers: &HeaderMap) -> Option<Self> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE_NAME)
            .and_then(|(_, value)| unhex(value.trim_matches('"')))
            .map(Self)
    }

    /// What the store keeps instead of the token: the SHA-256 of its 32 bytes (one block;
    /// hashing the 64 hex digits took two).
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0).into()
    }

    pub fn set_cookie(&self, secure: bool) -> HeaderValue {
        cookie(&hex(&self.0), LIFETIME_SECS, secure)
    }
}

/// The `Set-Cookie` that tells the browser to forget the session.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// 64 lowercase hex digits as 32 bytes; anything else (uppercase included: the site never
/// sends it) is no token.
fn unhex(text: &str) -> Option<[u8; 32]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

/// The sessions this process has handed out or looked up, by token digest, so that a request
/// with a session (`/me` on every page) does not wait for the database. The database keeps
/// every session and stays the truth: a session is written there before it is remembered
/// here, forgotten here when it is deleted there (logout), and one not found here is looked
/// up there. Expiry is checked on every use. Bounded: when full it starts again empty, and
/// the sessions still in use come back one lookup each. One server process per database file
/// (a second process's logout would not reach this one's memory).
#[derive(Default)]
pub struct LiveSessions {
    by_digest: Mutex<HashMap<[u8; 32], Live>>,
}

struct Live {
    username: Arc<str>,
    expires_at: i64,
}

/// Sessions remembered at most; about 100 bytes each.
const REMEMBERED: usize = 100_000;

impl LiveSessions {
    /// The username of the session with this digest if it is remembered and not expired at
    /// `now`; an expired one is forgotten.
    pub fn get(&self, digest: &[u8; 32], now: i64) -> Option<Arc<str>> {
        let mut map = self.lock();
        let live = map.get(digest)?;
        if live.expires_at > now {
            return Some(Arc::clone(&live.username));
        }
        map.remove(digest);
        None
    }

    pub fn remember(&self, digest: [u8; 32], username: Arc<str>, expires_at: i64) {
        let mut map = self.lock();
        if map.len() >= REMEMBERED {
            map.clear();
        }
        map.insert(
            digest,
            Live {
                username,
                expires_at,
            },
        );
    }

    pub fn forget(&self, digest: &[u8; 32]) {
        self.lock().remove(digest);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Live>> {
        // A panic while holding the lock leaves the map valid: every change is one call.
        self.by_digest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).expect("ascii"));
        h
    }

    #[test]
    fn tokens_are_new_each_time_and_round_trip_through_the_cookie() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        let set = a.set_cookie(false);
        let text = set.to_str().expect("ascii");
        assert!(
            text.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400"),
            "{text}"
        );
        let value = text.split(';').next().expect("pair");
        assert_eq!(
            SessionToken::from_request(&request_with(&format!("x=1; {value}"))),
            Some(a)
        );
    }

    #[test]
    fn altered_tokens_are_no_session() {
        let token = hex(&SessionToken::generate().0);
        for altered in [
            format!("{}X", &token[..63]),
            token.to_ascii_uppercase(),
            token[..62].to_owned(),
            format!("{token}0"),
        ] {
            assert_eq!(
                SessionToken::from_request(&request_with(&format!("{COOKIE_NAME}={altered}"))),
                None,
                "{altered}"
            );
        }
        assert_eq!(SessionToken::from_request(&request_with("other=1")), None);
    }

    #[test]
    fn the_digest_is_of_the_bytes_the_cookie_spells() {
        let token = SessionToken::generate();
        let expected: [u8; 32] = Sha256::digest(token.0).into();
        assert_eq!(token.digest(), expected);
        assert_eq!(unhex(&hex(&token.0)), Some(token.0));
    }

    #[test]
    fn live_sessions_expire_are_forgotten_and_stay_bounded() {
        let live = LiveSessions::default();
        live.remember([1; 32], Arc::from("ada"), 100);
        assert_eq!(live.get(&[1; 32], 99).as_deref(), Some("ada"));
        assert_eq!(
            live.get(&[1; 32], 100),
            None,
            "expired at its expiry second"
        );
        assert_eq!(
            live.get(&[1; 32], 99),
            None,
            "an expired session is forgotten"
        );
        live.remember([2; 32], Arc::from("bob"), 100);
        live.forget(&[2; 32]);
        assert_eq!(live.get(&[2; 32], 0), None);
        for n in 0..=REMEMBERED {
            let mut digest = [0; 32];
            digest[..8].copy_from_slice(&(n as u64).to_le_bytes());
            live.remember(digest, Arc::from("x"), 100);
        }
        assert!(live.lock().len() <= REMEMBERED);
    }

    #[test]
    fn clearing_and_secure_cookies() {
        assert_eq!(
            clear_cookie(true),
            "sitebench_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }
}
