//! The site in headless Chromium (site_conformance::browser) against backend-trillium.

fn main() -> std::process::ExitCode {
    site_conformance::browser::main(&backend_trillium::BACKEND)
}
