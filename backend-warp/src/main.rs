//! `backend-warp`: the sitebench site on warp, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_warp::BACKEND)
}
