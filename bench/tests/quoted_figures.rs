//! Every figure `README.md` and `docs/frameworks.md` quote comes from one source: the newest
//! committed report under `docs/results/` and the workspace's code. Each quoted block
//! (`<!-- quoted:NAME -->` … `<!-- /quoted:NAME -->`) must be exactly what
//! `bench::output::quoted::block` makes of them; a figure typed or edited by hand fails here.
//! `SITEBENCH_BLESS=1 cargo test -p bench --test quoted_figures` writes the blocks anew
//! (after committing a new run, or when an adapter's length changed).

use std::path::{Path, PathBuf};

mod common;

use bench::output::quoted;
use bench::report::Report;
use common::newest_run;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ sits in the workspace root")
        .to_path_buf()
}

/// A quoted block: its name and the byte range of its text, between the two markers' lines.
#[derive(Debug, PartialEq)]
struct Block {
    name: String,
    text: std::ops::Range<usize>,
}

/// Every quoted block of `doc`, or what is malformed about its markers.
fn blocks(doc: &str) -> Result<Vec<Block>, String> {
    const OPEN: &str = "<!-- quoted:";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = doc[from..].find(OPEN) {
        let start = from + at + OPEN.len();
        let name: String = doc[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let line_end = doc[start..]
            .find('\n')
            .map(|i| start + i + 1)
            .ok_or_else(|| format!("quoted:{name} opens on the last line"))?;
        let close = format!("<!-- /quoted:{name} -->");
        let end = doc[line_end..]
            .find(&close)
            .map(|i| line_end + i)
            .ok_or_else(|| format!("quoted:{name} is never closed by {close}"))?;
        out.push(Block {
            name,
            text: line_end..end,
        });
        from = end + close.len();
    }
    Ok(out)
}

/// Each block of `doc` that differs from what the report makes of it: (name, found, expected).
fn differences(doc: &str, report: &Report, report_link: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for block in blocks(doc).unwrap_or_else(|e| panic!("{e}")) {
        let expected = quoted::block(&block.name, report, report_link)
            .unwrap_or_else(|| panic!("no quoted block is named {:?}", block.name));
        let found = &doc[block.text.clone()];
        if found != expected {
            out.push((block.name, found.to_owned(), expected));
        }
    }
    out
}

/// `doc` with every block replaced by what the report makes of it.
fn blessed(doc: &str, report: &Report, report_link: &str) -> String {
    let mut out = doc.to_owned();
    for block in blocks(doc).unwrap_or_else(|e| panic!("{e}")).iter().rev() {
        let expected = quoted::block(&block.name, report, report_link)
            .unwrap_or_else(|| panic!("no quoted block is named {:?}", block.name));
        out.replace_range(block.text.clone(), &expected);
    }
    out
}

/// The documents that quote figures, each with the link from it to the report's Markdown, and
/// the blocks it must have.
fn documents(stem: &str) -> Vec<(PathBuf, String, &'static [&'static str])> {
    vec![
        (
            root().join("README.md"),
            format!("docs/results/{stem}.md"),
            &["answer", "figures", "checks"],
        ),
        (
            root().join("docs/frameworks.md"),
            format!("results/{stem}.md"),
            &["versions", "exhaustion", "numbers"],
        ),
    ]
}

#[test]
fn quoted_figures_are_the_newest_reports() {
    let run = newest_run();
    let report = Report::read(&run).expect("the newest committed report reads");
    let stem = run
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a report named by date")
        .to_owned();
    let bless = std::env::var_os("SITEBENCH_BLESS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for (path, link, required) in documents(&stem) {
        let doc = std::fs::read_to_string(&path).expect("the document reads");
        let names: Vec<String> = blocks(&doc)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .into_iter()
            .map(|b| b.name)
            .collect();
        for name in required {
            assert!(
                names.iter().any(|n| n == name),
                "{} lost its quoted:{name} block",
                path.display()
            );
        }
        if bless {
            std::fs::write(&path, blessed(&doc, &report, &link)).expect("the document writes");
            continue;
        }
        for (name, found, expected) in differences(&doc, &report, &link) {
            failures.push(format!(
                "{} quoted:{name} is not what {} and the code say.\n--- found:\n{found}--- \
                 expected:\n{expected}",
                path.display(),
                run.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(SITEBENCH_BLESS=1 cargo test -p bench --test quoted_figures writes them anew)",
        failures.join("\n")
    );
}

/// The check can fail: the README with one figure of its answer changed is caught, and the
/// difference names the block.
#[test]
fn a_doctored_figure_is_caught() {
    let run = newest_run();
    let report = Report::read(&run).expect("the newest committed report reads");
    let stem = run.file_stem().and_then(|s| s.to_str()).expect("a stem");
    let link = format!("docs/results/{stem}.md");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let faithful = blessed(&readme, &report, &link);
    assert!(differences(&faithful, &report, &link).is_empty());
    let answer = blocks(&faithful)
        .expect("well-formed")
        .into_iter()
        .find(|b| b.name == "answer")
        .expect("an answer block");
    let digit = faithful[answer.text.clone()]
        .find(|c: char| c.is_ascii_digit() && c != '9')
        .map(|i| answer.text.start + i)
        .expect("the answer quotes a figure");
    let mut doctored = faithful.clone();
    let bumped = (faithful.as_bytes()[digit] + 1) as char;
    doctored.replace_range(digit..digit + 1, &bumped.to_string());
    let found = differences(&doctored, &report, &link);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "answer");
}

#[test]
fn a_block_without_its_end_is_refused() {
    assert!(blocks("<!-- quoted:answer -->\ntext\n").is_err());
    assert_eq!(
        blocks("a\n<!-- quoted:figures (note) -->\nx\n<!-- /quoted:figures -->\n")
            .expect("well-formed")
            .len(),
        1
    );
}

/// The answer quotes the newest report's deviations, the Backends table the adapters'
/// `DEVIATIONS`: they must be the same, or the README contradicts itself. A backend that
/// changed its deviations needs a new committed run.
#[test]
fn the_newest_report_declares_what_the_adapters_declare() {
    let run = newest_run();
    let report = Report::read(&run).expect("the newest committed report reads");
    for backend in bench::workspace::backends::ALL {
        let declared: Vec<String> = backend
            .deviations
            .iter()
            .map(|d| format!("{d:?}"))
            .collect();
        let reported = report
            .backends
            .iter()
            .find(|b| b.name == backend.name)
            .map(|b| b.deviations.clone());
        assert_eq!(
            reported.as_ref(),
            Some(&declared),
            "backend-{} in {} against its DEVIATIONS",
            backend.name,
            run.display()
        );
    }
}
