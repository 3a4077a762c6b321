//! `bench build-cost` (BENCH.md 4.4): a clean release build of each backend, one at a time,
//! each in its own empty target directory (so every dependency is built, as on a fresh
//! clone), timed and kept in `docs/build-cost.json` with when and where it was measured.
//! Every report reads that file: a build takes minutes, so it is not part of `bench run`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::report::{CleanBuild, Machine};
use crate::workspace::binaries::workspace_root;

/// Where the measured builds are kept, from the workspace root.
pub const FILE: &str = "docs/build-cost.json";

/// The builds measured so far, each with its date; measuring some backends again keeps the
/// others' figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildCosts {
    /// The machine of the last measurement.
    pub machine: Machine,
    pub backends: BTreeMap<String, CleanBuild>,
}

pub fn path() -> PathBuf {
    workspace_root().join(FILE)
}

pub fn read(path: &Path) -> Option<BuildCosts> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

pub fn write(path: &Path, costs: &BuildCosts) -> Result<(), String> {
    let json = serde_json::to_string_pretty(costs).map_err(|e| e.to_string())?;
    std::fs::write(path, json + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The backend's clean build, if one was measured.
pub fn of(backend: &str) -> Option<CleanBuild> {
    read(&path())?.backends.remove(backend)
}

/// Adds (or replaces) the builds of `measured`, keeping the rest.
pub fn merge(old: Option<BuildCosts>, machine: Machine, measured: BuildCosts) -> BuildCosts {
    let mut backends = old.map(|o| o.backends).unwrap_or_default();
    backends.extend(measured.backends);
    BuildCosts { machine, backends }
}

/// Builds `backend` in a fresh, empty target directory and times it.
pub fn measure(backend: &str, measured_utc: &str) -> Result<CleanBuild, String> {
    let target = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target.path())
        .args(["build", "--release", "--quiet", "-p"])
        .arg(format!("backend-{backend}"))
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build of backend-{backend} failed ({status})"
        ));
    }
    Ok(CleanBuild {
        seconds: started.elapsed().as_secs_f64(),
        measured_utc: measured_utc.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(seconds: f64, day: &str) -> CleanBuild {
        CleanBuild {
            seconds,
            measured_utc: format!("{day}T12:00:00Z"),
        }
    }

    #[test]
    fn a_new_measurement_replaces_its_backends_and_keeps_the_others() {
        let machine = Machine {
            cpu_model: "Test CPU".into(),
            cores: 2,
            memory_mib: 1024,
            kernel: "6.1".into(),
            os: "Linux".into(),
        };
        let old = BuildCosts {
            machine: machine.clone(),
            backends: BTreeMap::from([
                ("axum".into(), build(61.0, "2026-11-26")),
                ("hyper".into(), build(100.0, "2026-11-26")),
            ]),
        };
        let new = BuildCosts {
            machine: machine.clone(),
            backends: BTreeMap::from([("hyper".into(), build(55.0, "2026-11-29"))]),
        };
        let merged = merge(Some(old), machine, new);
        assert_eq!(merged.backends["hyper"], build(55.0, "2026-11-29"));
        assert_eq!(merged.backends["axum"], build(61.0, "2026-11-26"));

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("build-cost.json");
        write(&file, &merged).expect("written");
        assert_eq!(read(&file), Some(merged));
        assert_eq!(read(&dir.path().join("missing.json")), None);
    }
}
