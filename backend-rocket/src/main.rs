//! `backend-rocket`: the sitebench site on rocket, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main("rocket", backend_rocket::serve)
}
