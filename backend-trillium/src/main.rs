//! `backend-trillium`: the sitebench site on trillium, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_trillium::BACKEND)
}
