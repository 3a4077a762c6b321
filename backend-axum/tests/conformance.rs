//! The shared conformance suite (SITE.md, every line) against backend-axum.

use std::sync::OnceLock;

use site_core::conformance::Target;

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        Target::in_process(
            "axum",
            backend_axum::serve,
            env!("CARGO_BIN_EXE_backend-axum"),
            &backend_axum::DEVIATIONS,
        )
    })
}

site_core::conformance_tests!(target());
