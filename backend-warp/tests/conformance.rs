//! The shared conformance suite (SITE.md, every line) against backend-warp.

use std::sync::OnceLock;

use site_core::conformance::Target;

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        Target::in_process(
            "warp",
            backend_warp::serve,
            env!("CARGO_BIN_EXE_backend-warp"),
            &backend_warp::DEVIATIONS,
        )
    })
}

site_core::conformance_tests!(target());
