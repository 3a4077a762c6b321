//! `backend-hyper`: the sitebench site on hyper alone, with the command line every backend shares.

fn main() -> std::process::ExitCode {
    site_core::server::main(&backend_hyper::BACKEND)
}
