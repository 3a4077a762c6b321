//! `backend-rocket`: the sitebench site on rocket, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_rocket::BACKEND)
}
