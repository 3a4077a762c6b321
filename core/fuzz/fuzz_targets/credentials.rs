//! Form and JSON decoding of sign-up and login bodies: any content type and body give
//! credentials or a 4xx error, never a panic or a 500; query strings decode or are refused.
#![no_main]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
use libfuzzer_sys::fuzz_target;
use site_core::body::form_pairs;
use site_core::credentials;

fuzz_target!(|input: (&[u8], &[u8])| {
    let (content_type, body) = input;
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    if let Err(error) = credentials::parse(&headers, Ok(Bytes::copy_from_slice(body))) {
        let status = error.status().as_u16();
        assert!((400..500).contains(&status), "{error:?} is {status}");
    }
    let _ = form_pairs(body);
});
