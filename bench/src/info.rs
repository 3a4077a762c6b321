//! Facts about each backend and the build, for the report: adapter lines of code, release
//! binary size, crates in its dependency tree, the frameworks' resolved versions, and the git
//! revision. Read from the workspace this bench was built in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates whose resolved versions the report records, besides each backend's framework.
const VERSIONED: [&str; 3] = ["hyper", "tokio", "site-core"];

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
    if backend == crate::backends::FLOOR.name {
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
    for backend in crate::backends::ALL {
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

/// Non-blank lines of the adapter's `src/` that are not comments.
pub fn adapter_lines(backend: &str) -> Option<u64> {
    let dir = workspace_root()
        .join(format!("backend-{backend}"))
        .join("src");
    let mut total = 0;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "rs") {
            total += code_lines(&std::fs::read_to_string(entry.path()).ok()?);
        }
    }
    Some(total)
}

fn code_lines(source: &str) -> u64 {
    let mut in_block = false;
    let mut count = 0;
    for line in source.lines().map(str::trim) {
        if in_block {
            in_block = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.contains("*/");
            continue;
        }
        if !line.is_empty() && !line.starts_with("//") {
            count += 1;
        }
    }
    count
}

pub fn binary_bytes(backend: &str) -> Option<u64> {
    std::fs::metadata(binary(backend)).ok().map(|m| m.len())
}

/// Distinct crates (with versions) in the backend's normal dependency tree, itself excluded.
pub fn dependency_count(backend: &str) -> Option<u64> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "-q",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            &format!("backend-{backend}"),
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let crates: std::collections::BTreeSet<&str> = text
        .lines()
        .map(|l| l.trim_end_matches(" (*)").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect();
    Some(crates.len().saturating_sub(1) as u64)
}

/// Resolved versions from Cargo.lock of every backend's framework and the crates under them.
pub fn versions() -> BTreeMap<String, String> {
    let named: Vec<&str> = crate::backends::ALL
        .iter()
        .map(|b| b.framework)
        .chain(VERSIONED)
        .collect();
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), &name)
            && named.contains(&n.as_str())
        {
            out.entry(n.clone())
                .or_insert_with(|| v.trim_matches('"').to_owned());
        }
    }
    out
}

/// `git rev-parse --short HEAD`, with `-dirty` when the tree has uncommitted changes.
pub fn git_revision() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(workspace_root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let head = git(&["rev-parse", "--short", "HEAD"])?;
    let mut revision = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    if git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|o| !o.stdout.is_empty())
    {
        revision.push_str("-dirty");
    }
    Some(revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_not_comments_or_blanks() {
        let source = "//! doc\n\nfn a() {\n    // note\n    1\n}\n/* block\n still */\nconst B: u8 = 2; // trailing\n";
        assert_eq!(code_lines(source), 4);
    }

    #[test]
    fn reads_versions_from_the_lock_file() {
        let versions = versions();
        assert!(
            versions.contains_key("tokio") && versions.contains_key("axum"),
            "{versions:?}"
        );
    }
}
