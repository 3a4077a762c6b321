//! What the backends depend on, from cargo's view of the workspace: the crates in a backend's
//! dependency tree, and the resolved versions of the frameworks and the crates under them.

use std::collections::BTreeMap;
use std::process::Command;

use crate::workspace::backends;
use crate::workspace::binaries::workspace_root;

/// Crates whose resolved versions the report records, besides each backend's framework.
const VERSIONED: [&str; 3] = ["hyper", "tokio", "site-core"];

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
    let named: Vec<&str> = backends::ALL
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_from_the_lock_file() {
        let versions = versions();
        assert!(
            versions.contains_key("tokio") && versions.contains_key("axum"),
            "{versions:?}"
        );
    }
}
