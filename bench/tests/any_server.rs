//! `bench run --server NAME=COMMAND` with a server that is not Rust: part of the site in
//! Python's `http.server` (`tests/python-site/site.py`: `/healthz`, `/plaintext`, `/json`,
//! `/hello`, `/status/{code}`, nothing else). bench must start it on the port it chose, time
//! the scenarios it answers, report the one it does not answer as failed verification without
//! timing it, run the conformance suite against it, start it again, stop it with SIGTERM,
//! start it once more with few descriptors and flood it, and write it all into the same report.

use std::path::Path;
use std::process::Command;

use bench::report::{Report, Role};

fn python() -> Option<&'static str> {
    ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn a_python_server_is_measured_in_the_same_report() {
    let Some(python) = python() else {
        // CI installs it and says so: there a missing tool is a failure, not a skip.
        assert!(
            !site_conformance::tools_required(),
            "python3 is not installed (apt-get install python3) and SITEBENCH_REQUIRE_TOOLS=1"
        );
        eprintln!("skipped: python3 is not installed (apt-get install python3)");
        return;
    };
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python-site/site.py");
    let out = tempfile::tempdir().expect("a temporary directory");
    let command = format!("py={python} '{}' --port {{port}}", site.display());
    let run = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["run", "--backends", "none", "--server", &command])
        .args([
            "--scenarios",
            "plaintext,json,static",
            "--quick",
            "--no-cost",
        ])
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("bench runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "a partial server is reported, not a failed run: {stdout}\n{stderr}"
    );

    let report = Report::read(&out.path().join("report.json")).expect("report.json");
    let [py] = report.backends.as_slice() else {
        panic!("one server in the report: {:?}", report.backends);
    };
    assert_eq!((py.name.as_str(), py.role), ("py", Role::External));
    assert_eq!(py.failure, None);
    assert!(py.command.as_deref().is_some_and(|c| c.contains("{port}")));
    // Five timed starts, each stopped, its memory read; then the run's own start and, after
    // the suite, a start again on the same database: every one exited 0.
    assert_eq!(py.startups_ms.len(), 5, "{:?}", py.startups_ms);
    assert!(py.startups_ms.iter().all(|ms| *ms > 0.0));
    assert!(py.startup_rss_kib.is_some_and(|kib| kib > 1024));
    assert_eq!(py.clean_exit, Some(true), "site.py exits 0 on SIGTERM");
    assert_eq!(report.options.servers, std::slice::from_ref(&command));

    let scenario = |name: &str| {
        py.scenarios
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} in the report"))
    };
    for timed in ["plaintext", "json"] {
        let s = scenario(timed);
        assert_eq!(s.failed, None, "{timed}");
        let run = s.runs.first().expect("a timed window");
        assert!(
            run.requests_per_sec > 0.0 && run.errors.total() == 0,
            "{timed}"
        );
        assert!(run.histogram.is_some() && run.server_cpu_us_per_request.is_some());
    }
    // No `/` on this server: failed verification, never timed, and the rest still ran.
    let home = scenario("static");
    assert!(home.runs.is_empty() && home.summary.is_none());
    assert!(
        home.failed
            .as_deref()
            .is_some_and(|why| why.contains("GET /")),
        "{:?}",
        home.failed
    );

    // The conformance suite ran against it: what it answers passes, the rest is listed.
    let conformance = py.conformance.as_ref().expect("the suite ran");
    let failed: Vec<&str> = conformance.failed.iter().map(|(c, _)| c.as_str()).collect();
    assert!(conformance.passed > 0, "{conformance:?}");
    assert!(failed.contains(&"home_page_is_html"), "{failed:?}");
    assert!(!failed.contains(&"plaintext_exact"), "{failed:?}");
    assert_eq!(conformance.not_run, ["slow_request_header_closed"]);

    // Started once more with 256 descriptors and flooded: measured like a backend (what
    // Python's socketserver does at the limit is its own; the measure must not fail).
    let exhausted = py
        .exhaustion
        .as_ref()
        .expect("out of descriptors, measured");
    assert_eq!(exhausted.error, None, "{exhausted:?}");
    assert_eq!(exhausted.existing, 4, "{exhausted:?}");

    let markdown = std::fs::read_to_string(out.path().join("report.md")).expect("report.md");
    assert!(
        markdown.contains("failed verification: GET /"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("{} passed", conformance.passed)),
        "the conformance column: {markdown}"
    );
    let csv = std::fs::read_to_string(out.path().join("report.csv")).expect("report.csv");
    assert!(csv.lines().any(|l| l.starts_with("py,plaintext,")), "{csv}");
}
