//! What several of bench's integration tests share: where the committed runs are.

use std::path::{Path, PathBuf};

/// The newest committed `docs/results/*.json` (named by date, so the last in name order).
pub fn newest_run() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("docs/results")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    runs.sort();
    runs.pop().expect("a committed report.json")
}
