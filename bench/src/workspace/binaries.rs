//! Where the workspace and the servers' release binaries are, building them (all at once, so
//! each is the same build whichever are measured), and a binary's size for the report.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace::backends;

/// The workspace this bench was built in.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

pub fn binary(backend: &str) -> PathBuf {
    let release = target_dir().join("release");
    if backend == backends::FLOOR.name {
        release.join("floor")
    } else {
        release.join(format!("backend-{backend}"))
    }
}

/// Builds every server's release binary, whichever are benchmarked: cargo unifies the
/// features of the packages built together, so building a subset would make a different
/// `backend-hyper` (measured 1.4% fewer instructions) and `--backends` would change the
/// figures. Incremental: quick when nothing changed; cargo keeps each feature set's build,
/// so `cargo run -p bench` afterwards only relinks.
pub fn build_backends() -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_root())
        .args(["build", "--release", "--quiet"]);
    for backend in backends::ALL {
        command.args(["-p", &format!("backend-{}", backend.name)]);
    }
    // `floor` is a binary of this package (not `--bin floor`: that would restrict every
    // package named to a `floor` binary).
    command.args(["-p", "bench"]);
    command.arg("--bins");
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build --release of the backends failed ({status})"
        ))
    }
}

/// The release binary's size in bytes, once built.
pub fn binary_bytes(backend: &str) -> Option<u64> {
    std::fs::metadata(binary(backend)).ok().map(|m| m.len())
}
