//! The site in headless Chromium (site_conformance::browser) against backend-rocket.

fn main() -> std::process::ExitCode {
    site_conformance::browser::main(&backend_rocket::BACKEND)
}
