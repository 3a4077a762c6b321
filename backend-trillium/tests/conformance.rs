//! The shared conformance suite (SITE.md, every line) against backend-trillium.

use std::sync::OnceLock;

use site_conformance::Target;

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        Target::in_process(
            &backend_trillium::BACKEND,
            env!("CARGO_BIN_EXE_backend-trillium"),
        )
    })
}

site_conformance::conformance_tests!(target());
