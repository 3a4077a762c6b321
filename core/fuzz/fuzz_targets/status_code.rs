//! `GET /status/{code}` parsing: only exactly three ASCII digits from 200 to 599 are a final
//! status, and parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use site_core::status_codes::StatusRequest;

fuzz_target!(|segment: &str| {
    if let StatusRequest::Final(status) = StatusRequest::parse(segment) {
        assert_eq!(segment.len(), 3, "{segment:?}");
        assert!(segment.bytes().all(|b| b.is_ascii_digit()), "{segment:?}");
        assert!((200..600).contains(&status.as_u16()), "{segment:?}");
        assert_eq!(segment, status.as_str());
    }
});
