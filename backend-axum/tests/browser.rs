//! The site in headless Chromium (site_conformance::browser) against backend-axum.

fn main() -> std::process::ExitCode {
    site_conformance::browser::main(&backend_axum::BACKEND)
}
