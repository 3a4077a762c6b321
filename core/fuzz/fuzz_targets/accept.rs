//! `Accept` negotiation never panics, whatever the header holds.
#![no_main]

use http::{HeaderMap, HeaderValue, header::ACCEPT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, value);
    let _ = site_core::negotiation::prefers_html(&headers);
});
