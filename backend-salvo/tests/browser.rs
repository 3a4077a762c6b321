//! The site in headless Chromium (site_conformance::browser) against backend-salvo.

fn main() -> std::process::ExitCode {
    site_conformance::browser::main(&backend_salvo::BACKEND)
}
