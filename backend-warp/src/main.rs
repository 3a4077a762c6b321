//! `backend-warp`: the sitebench site on warp, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main("warp", backend_warp::serve)
}
