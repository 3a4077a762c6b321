//! `backend-axum`: the sitebench site on axum, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_axum::BACKEND)
}
