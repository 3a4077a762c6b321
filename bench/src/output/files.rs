//! Writing a report's four files into a directory: `report.json` (the model itself) and what
//! is rendered from it, `report.csv`, `report.md` and `report.html`. `bench run` writes all
//! four after each scenario, so a crash keeps what was done; `bench render` writes the three
//! rendered ones again from a `report.json`.

use std::path::Path;

use crate::output::{report_csv, report_html, report_md};
use crate::report::Report;

/// Writes report.json, report.csv, report.md and report.html into `dir`.
pub fn write_all(report: &Report, dir: &Path) -> Result<(), String> {
    create(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    write(dir, "report.json", &json)?;
    write_rendered(report, dir)
}

/// Writes report.csv, report.md and report.html into `dir`.
pub fn write_rendered(report: &Report, dir: &Path) -> Result<(), String> {
    create(dir)?;
    write(dir, "report.csv", &report_csv::csv(report)?)?;
    write(dir, "report.md", &report_md::markdown(report))?;
    write(dir, "report.html", &report_html::page(report, Some(dir)))
}

fn create(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn schema_round_trips_through_the_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let report = sample();
        write_all(&report, dir.path()).expect("write");
        assert_eq!(Report::read(&dir.path().join("report.json")), Ok(report));
        for name in ["report.csv", "report.md", "report.html"] {
            let text = std::fs::read_to_string(dir.path().join(name)).expect("written");
            assert!(
                text.contains("axum") && text.contains("plaintext"),
                "{name}"
            );
        }
    }
}
