//! The backends the bench knows: every `backend-<name>` member of the workspace, the baseline
//! first (made by `build.rs` from the workspace's `Cargo.toml`, so no list here to keep).
//! `bench backends` prints it for the scripts.

/// The site on hyper alone: what every framework is compared with.
pub const BASELINE: &str = "hyper";

/// The reference under the baseline: hyper with no site logic (`bench/src/bin/floor.rs`),
/// run for the scenarios it answers and never verified against the contract.
pub const FLOOR: Backend = Backend {
    name: "floor",
    framework: "hyper",
    deviations: &[],
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backend {
    /// `axum`: the crate and binary `backend-axum`, the header `Server: sitebench-axum`.
    pub name: &'static str,
    /// The crate that does the HTTP work (`hyper` for the baseline), whose resolved version
    /// the report records.
    pub framework: &'static str,
    /// The lines of SITE.md its framework makes impossible (its `DEVIATIONS`): the
    /// conformance suite expects exactly these from it.
    pub deviations: &'static [site_core::Deviation],
}

/// Every backend of the workspace, [`BASELINE`] first, then in the workspace's order.
pub const ALL: &[Backend] = include!(concat!(env!("OUT_DIR"), "/backends.rs"));

/// A backend of [`ALL`], or [`FLOOR`].
pub fn find(name: &str) -> Option<&'static Backend> {
    ALL.iter().chain([&FLOOR]).find(|b| b.name == name)
}

pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|b| b.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_directory_is_listed_with_the_baseline_first() {
        let root = crate::workspace::binaries::workspace_root();
        let mut on_disk: Vec<String> = std::fs::read_dir(&root)
            .expect("workspace root")
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_prefix("backend-")
                    .map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = names().iter().map(|n| (*n).to_owned()).collect();
        assert_eq!(listed.first().map(String::as_str), Some(BASELINE));
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "a backend-* directory that is not a workspace member"
        );
        assert_eq!(find("axum").map(|b| b.framework), Some("axum"));
        // What build.rs read from each adapter's `DEVIATIONS` is what the README's backend
        // table declares (SITE.md: a deviation is listed there), and the baseline has none.
        let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
        for backend in ALL {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `backend-{}`", backend.name)))
                .unwrap_or_else(|| panic!("README has no row for backend-{}", backend.name));
            let declared = row.trim_end_matches(['|', ' ']).rsplit(" | ").next();
            if backend.deviations.is_empty() {
                assert_eq!(declared, Some("none"), "{row}");
            }
            for deviation in backend.deviations {
                let name = format!("{deviation:?}");
                assert!(row.contains(&format!("`{name}`")), "{name} not in {row}");
            }
        }
        assert_eq!(find(BASELINE).map(|b| b.deviations.len()), Some(0));
    }
}
