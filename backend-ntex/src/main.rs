//! `backend-ntex`: the sitebench site on ntex, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_ntex::BACKEND)
}
