//! Static files with conditional requests and odd paths: any path and any `If-None-Match` /
//! `If-Modified-Since` give 200, 301, 304 or 404, never a panic or a 500.
#![no_main]

use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use site_core::static_files::StaticRoot;

fn root() -> &'static (StaticRoot, tokio::runtime::Runtime) {
    static ROOT: OnceLock<(StaticRoot, tokio::runtime::Runtime)> = OnceLock::new();
    ROOT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        (StaticRoot::embedded(), runtime)
    })
}

fuzz_target!(|input: (&str, &[u8], &[u8])| {
    let (path, if_none_match, if_modified_since) = input;
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(if_none_match) {
        headers.insert(http::header::IF_NONE_MATCH, value);
    }
    if let Ok(value) = HeaderValue::from_bytes(if_modified_since) {
        headers.insert(http::header::IF_MODIFIED_SINCE, value);
    }
    let (root, runtime) = root();
    let path = format!("/{}", path.trim_start_matches('/'));
    let reply = runtime.block_on(root.serve(&path, None, &headers));
    let status = reply.status().as_u16();
    assert!(
        matches!(status, 200 | 301 | 304 | 400 | 404),
        "{path:?} gave {status}"
    );
});
