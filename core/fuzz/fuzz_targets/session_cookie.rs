//! Session cookie parsing: any `Cookie` header gives a token or none, never a panic, and a
//! token found is one the header carried.
#![no_main]

use http::{HeaderMap, HeaderValue, header::COOKIE};
use libfuzzer_sys::fuzz_target;
use site_core::sessions::SessionToken;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, value);
    if let Some(token) = SessionToken::from_request(&headers) {
        let _ = token.digest();
    }
});
