//! The site in headless Chromium (site_conformance::browser) against backend-warp.

fn main() -> std::process::ExitCode {
    site_conformance::browser::main(&backend_warp::BACKEND)
}
