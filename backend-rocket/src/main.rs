//! `backend-rocket`: in progress (issue #3).

fn main() -> std::process::ExitCode {
    site_core::cli::fail("error: backend-rocket is not written yet")
}
