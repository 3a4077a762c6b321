//! `bench compare --fail-if-worse` as CI runs it: the newest run committed under
//! `docs/results/` against itself passes, and against a copy with one instruction count made
//! 20% worse exits 1, naming it; `--same-answer` passes the run against itself and fails a
//! copy whose answer names another best, which `--fail-if-worse` only reports.

use std::path::Path;
use std::process::Command;

mod common;
use common::newest_run;

fn compare(old: &Path, new: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("compare")
        .arg(old)
        .arg(new)
        .args(extra)
        .output()
        .expect("bench runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_gate_passes_a_run_against_itself_and_fails_a_doctored_one() {
    let run = newest_run();
    let (code, out) = compare(&run, &run, &["--fail-if-worse", "5"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 of "), "{out}");

    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run).expect("the committed run"))
            .expect("report.json");
    let instructions = report["backends"]
        .as_array_mut()
        .and_then(|b| b.iter_mut().find(|b| b["name"] == "axum"))
        .and_then(|b| b["scenarios"].as_array_mut())
        .and_then(|s| s.iter_mut().find(|s| s["name"] == "json"))
        .and_then(|s| s["cost"]["instructions"].as_array_mut())
        .expect("axum json has instruction counts");
    for count in instructions.iter_mut() {
        *count = serde_json::json!(count.as_f64().expect("a number") * 1.2);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let doctored = dir.path().join("report.json");
    std::fs::write(&doctored, report.to_string()).expect("written");

    let (code, out) = compare(&run, &doctored, &["--fail-if-worse", "5"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("axum json instr/req"), "{out}");
    let (code, out) = compare(&run, &doctored, &["--fail-if-worse", "25"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_changed_answer_fails_only_under_same_answer() {
    let run = newest_run();
    let (code, out) = compare(&run, &run, &["--same-answer"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("0 of ") && out.contains("criteria answer differently"),
        "{out}"
    );

    // axum made to cost half its instructions everywhere: it becomes the best on that
    // criterion, which is a changed answer, and better, so no gate on worse figures sees it.
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run).expect("the committed run"))
            .expect("report.json");
    let axum = report["backends"]
        .as_array_mut()
        .and_then(|b| b.iter_mut().find(|b| b["name"] == "axum"))
        .and_then(|b| b["scenarios"].as_array_mut())
        .expect("axum's scenarios");
    for scenario in axum.iter_mut() {
        // `get_mut`, not indexing: indexing a missing cost would write one in.
        if let Some(counts) = scenario
            .get_mut("cost")
            .and_then(|c| c.get_mut("instructions"))
            .and_then(|i| i.as_array_mut())
        {
            for count in counts.iter_mut() {
                *count = serde_json::json!(count.as_f64().expect("a number") * 0.5);
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let doctored = dir.path().join("report.json");
    std::fs::write(&doctored, report.to_string()).expect("written");

    let (code, out) = compare(&run, &doctored, &["--fail-if-worse", "5"]);
    assert_eq!(
        code,
        Some(0),
        "a changed answer is reported, not failed: {out}"
    );
    assert!(
        out.contains("- instructions per request: another best (OLD: hyper (no framework) > "),
        "{out}"
    );
    assert!(out.contains("reported, not failed"), "{out}");
    let (code, out) = compare(&run, &doctored, &["--same-answer"]);
    assert_eq!(code, Some(1), "{out}");
}
