//! `backend-actix`: the sitebench site on actix-web, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_actix::BACKEND)
}
