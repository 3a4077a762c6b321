//! The shared conformance suite (SITE.md, every line) against backend-actix.

use std::sync::OnceLock;

use site_core::conformance::Target;

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        Target::in_process(
            "actix",
            backend_actix::serve,
            env!("CARGO_BIN_EXE_backend-actix"),
            &backend_actix::DEVIATIONS,
        )
    })
}

site_core::conformance_tests!(target());
