//! `backend-salvo`: the sitebench site on salvo, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_salvo::BACKEND)
}
