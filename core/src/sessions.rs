//! Server-side sessions: the random token a login hands out, the SHA-256 of it that the store
//! keeps, the `sitebench_session` cookie that carries it, and its 24-hour lifetime.

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "sitebench_session";
pub const LIFETIME_SECS: i64 = 24 * 60 * 60;

/// A session token as the client holds it: 32 random bytes (256 bits) in lowercase hex.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

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
        Self(hex(&bytes))
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
            .map(|(_, value)| value.trim_matches('"'))
            .filter(|v| {
                v.len() == 64
                    && v.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            })
            .map(|v| Self(v.to_owned()))
    }

    /// What the store keeps instead of the token.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    pub fn set_cookie(&self, secure: bool) -> HeaderValue {
        cookie(&self.0, LIFETIME_SECS, secure)
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
        let token = SessionToken::generate().0;
        let altered = format!("{}X", &token[..63]);
        assert_eq!(
            SessionToken::from_request(&request_with(&format!("{COOKIE_NAME}={altered}"))),
            None
        );
        assert_eq!(SessionToken::from_request(&request_with("other=1")), None);
    }

    #[test]
    fn clearing_and_secure_cookies() {
        assert_eq!(
            clear_cookie(true),
            "sitebench_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }
}
