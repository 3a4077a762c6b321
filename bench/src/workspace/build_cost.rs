//! `bench build-cost` (BENCH.md 4.4): what building each backend costs, one backend at a time,
//! each in a target directory of its own that starts empty. A clean release build (every
//! dependency built, as on a fresh clone), then in the same directory a clean debug build and
//! the edit-compile loop: `cargo check`, `cargo build` and `cargo build --release` after a
//! one-line change in the adapter (the same change in every adapter, see [`edit`]). Timed and
//! kept in `docs/build-cost.json` with when and where it was measured. Every report reads that
//! file: a measurement takes minutes, so it is not part of `bench run`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::report::{CleanBuild, EditLoop, Machine};
use crate::workspace::binaries::workspace_root;
use crate::workspace::edit::{self, Edit};

/// Where the measured builds are kept, from the workspace root.
pub const FILE: &str = "docs/build-cost.json";

/// Edits timed per command: the median of three is not moved by one slow build.
pub const EDITS: usize = 3;

/// Set to measure another copy of the workspace than the one bench was built in (read by
/// `bench build-cost` only): the tests run it on a scratch copy with a stand-in cargo, so the
/// tree's adapters and `docs/build-cost.json` are never at stake.
pub const WORKSPACE_VAR: &str = "SITEBENCH_WORKSPACE";

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

/// The workspace `bench build-cost` measures: [`WORKSPACE_VAR`], else this one.
pub fn workspace() -> PathBuf {
    std::env::var_os(WORKSPACE_VAR).map_or_else(workspace_root, PathBuf::from)
}

/// The cargo that runs bench (`cargo run` says which in `CARGO`), so the builds measured are
/// that toolchain's.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Where an edit's original waits until it is undone: under `target/`, which git ignores, and
/// in the workspace measured, so that a later run finds what a killed one left.
pub fn backup_dir(workspace: &Path) -> PathBuf {
    workspace.join("target").join("bench-edits")
}

/// The adapter `bench build-cost` edits.
pub fn adapter(workspace: &Path, backend: &str) -> PathBuf {
    workspace.join(format!("backend-{backend}/src/lib.rs"))
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

/// The three cargo commands of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Check,
    Debug,
    Release,
}

impl Kind {
    fn args(self) -> &'static [&'static str] {
        match self {
            Self::Check => &["check"],
            Self::Debug => &["build"],
            Self::Release => &["build", "--release"],
        }
    }

    /// As an error names it.
    fn command(self) -> &'static str {
        match self {
            Self::Check => "cargo check",
            Self::Debug => "cargo build",
            Self::Release => "cargo build --release",
        }
    }
}

/// One backend's builds: which cargo, in which workspace, into which target directory.
struct Builds<'a> {
    cargo: &'a OsStr,
    workspace: &'a Path,
    target: &'a Path,
    backend: &'a str,
}

impl Builds<'_> {
    /// Runs `kind` to its end and times it; `after` says what preceded it, for the error.
    fn run(&self, kind: Kind, after: &str) -> Result<f64, String> {
        let package = format!("backend-{}", self.backend);
        let mut command = Command::new(self.cargo);
        command
            .current_dir(self.workspace)
            .env("CARGO_TARGET_DIR", self.target)
            .args(kind.args())
            .args(["--quiet", "-p", &package]);
        let started = Instant::now();
        let status =
            edit::run_watched(&mut command).map_err(|e| format!("cannot run cargo: {e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        if status.success() {
            Ok(seconds)
        } else {
            Err(format!(
                "{} -p {package}{after} failed ({status})",
                kind.command()
            ))
        }
    }

    /// `kind`'s time after each of [`EDITS`] edits. Each timed build follows exactly one
    /// changed line from a target directory built from the tree just before: brought up to
    /// date first (the edits of the kind before changed the file's mtime, which is what cargo
    /// looks at), then per edit: make it, time the build, undo it. The next edit's line
    /// replaces the undone one, so against what was last built it is again one changed line,
    /// and no untimed build is needed between them. `next` numbers the edits, so no two are
    /// the same code.
    fn after_edits(
        &self,
        kind: Kind,
        adapter: &Path,
        backups: &Path,
        next: &mut u32,
    ) -> Result<Vec<f64>, String> {
        self.run(kind, "")?;
        let mut seconds = Vec::with_capacity(EDITS);
        for _ in 0..EDITS {
            *next += 1;
            // Undone by its drop if the build fails.
            let edit = Edit::make(adapter, backups, *next)?;
            seconds.push(self.run(kind, " after an edit of the adapter")?);
            edit.undo()?;
        }
        Ok(seconds)
    }
}

/// Measures `backend` of `workspace` with `cargo`, in a new target directory: the clean
/// release build, the clean debug build (the release build shares nothing with it), then the
/// loop of `cargo check`, `cargo build` and `cargo build --release`, [`EDITS`] edits each.
/// The adapter is as it was when this returns, whether it returns an error or not.
pub fn measure(
    workspace: &Path,
    cargo: &OsStr,
    backend: &str,
    measured_utc: &str,
) -> Result<CleanBuild, String> {
    let target = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let _scratch = edit::Scratch::register(target.path());
    let builds = Builds {
        cargo,
        workspace,
        target: target.path(),
        backend,
    };
    let seconds = builds.run(Kind::Release, " from an empty target directory")?;
    let clean_debug_seconds = builds.run(Kind::Debug, " from an empty debug profile")?;
    let source = adapter(workspace, backend);
    let backups = backup_dir(workspace);
    let mut next = 0;
    let mut after_edits = |kind: Kind| builds.after_edits(kind, &source, &backups, &mut next);
    let check = after_edits(Kind::Check)?;
    let debug = after_edits(Kind::Debug)?;
    let release = after_edits(Kind::Release)?;
    Ok(CleanBuild {
        seconds,
        measured_utc: measured_utc.to_owned(),
        edit_loop: Some(EditLoop {
            clean_debug_seconds,
            check,
            debug,
            release,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(seconds: f64, day: &str) -> CleanBuild {
        CleanBuild {
            seconds,
            measured_utc: format!("{day}T12:00:00Z"),
            edit_loop: None,
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
