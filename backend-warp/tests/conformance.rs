//! The shared conformance suite (SITE.md, every line) against backend-warp.

use std::sync::OnceLock;

use site_conformance::Target;

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| Target::in_process(&backend_warp::BACKEND, env!("CARGO_BIN_EXE_backend-warp")))
}

site_conformance::conformance_tests!(target());
