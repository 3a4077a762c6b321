//! The shared conformance suite (SITE.md, every line) against backend-rocket.

use std::sync::OnceLock;

use site_core::conformance::Target;

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        Target::in_process(
            "rocket",
            backend_rocket::serve,
            env!("CARGO_BIN_EXE_backend-rocket"),
            &backend_rocket::DEVIATIONS,
        )
    })
}

site_core::conformance_tests!(target());
