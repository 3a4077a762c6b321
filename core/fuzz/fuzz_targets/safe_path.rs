//! Path resolution: any request path either is refused or resolves to segments that cannot
//! leave the static root (no empty, `.`-led or separator-holding segment).
#![no_main]

use libfuzzer_sys::fuzz_target;
use site_core::static_files::SafePath;

fuzz_target!(|path: &str| {
    if let Some(safe) = SafePath::parse(path) {
        for segment in &safe.segments {
            assert!(!segment.is_empty(), "{path:?} gave an empty segment");
            assert!(!segment.starts_with('.'), "{path:?} gave {segment:?}");
            assert!(
                !segment.contains(['/', '\\', '\0']),
                "{path:?} gave {segment:?}"
            );
        }
    }
});
