//! bench's modules import one way (`src/lib.rs`): `cli` on top, then `run`, then `measure`
//! and `output`, then `workspace`, and `report`, the model, at the bottom importing nothing
//! else of the crate. This reads every `crate::` and `super::` path in `src/` (tests
//! included: a test that reaches up is an import too) and fails on a path that goes up or
//! sideways, on any path out of `report`, and on a circle between the top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, lowest first: a module may use only those before it.
const LAYERS: [&[&str]; 5] = [
    &["report"],
    &["workspace"],
    &["measure", "output"],
    &["run"],
    &["cli"],
];

/// Modules that must use nothing of the crate at all (the escaping every format shares); they
/// still sit in their layer, so only the layers above may use them.
const LEAVES: [&str; 1] = ["output/escape.rs"];

/// A reference from one top-level module to another: where it is, and the two modules.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    place: String,
    from: String,
    to: String,
}

#[test]
fn imports_go_one_way_and_the_report_model_imports_nothing() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let sources: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("a source file");
            (f.strip_prefix(&src).expect("under src").to_path_buf(), text)
        })
        .collect();
    assert!(
        sources.len() > 20,
        "expected bench's modules under {}",
        src.display()
    );
    let problems = problems(&sources);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The rules, on any set of sources: each problem said on one line.
fn problems(sources: &[(PathBuf, String)]) -> Vec<String> {
    let references: Vec<Reference> = sources
        .iter()
        .flat_map(|(path, text)| references(path, text))
        .collect();
    let rank = |module: &str| LAYERS.iter().position(|layer| layer.contains(&module));
    let mut out = Vec::new();
    for r in &references {
        if r.from == "report" {
            out.push(format!(
                "{}: the report model uses `{}` (it may use only std and other crates)",
                r.place, r.to
            ));
            continue;
        }
        match (rank(&r.from), rank(&r.to)) {
            (Some(from), Some(to)) if to < from => {}
            (Some(_), Some(_)) => out.push(format!(
                "{}: `{}` uses `{}`, which is not below it",
                r.place, r.from, r.to
            )),
            _ => out.push(format!(
                "{}: `{}` uses `{}`; add the new module to LAYERS",
                r.place, r.from, r.to
            )),
        }
    }
    out.extend(circles(&references));
    for (path, text) in sources {
        if LEAVES.iter().any(|leaf| path == Path::new(leaf)) {
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains("crate::")
                    || (code.contains("super::") && !code.contains("use super::*"))
                {
                    out.push(format!(
                        "src/{}:{}: a leaf module uses the crate",
                        path.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("a source directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/`: `report/stats.rs` is `[report, stats]`,
/// `report/mod.rs` is `[report]`, `lib.rs` is `[]`. `None` for the binaries (`main.rs`,
/// `bin/`), which are crates of their own that use the library.
fn module_path(path: &Path) -> Option<Vec<String>> {
    let parts: Vec<String> = path
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [only] if only == "lib" => Some(Vec::new()),
        [only] if only == "main" => None,
        [first, ..] if first == "bin" => None,
        [init @ .., last] if last == "mod" => Some(init.to_vec()),
        all => Some(all.to_vec()),
    }
}

/// Every reference in `text` from its file's top-level module to another one.
fn references(path: &Path, text: &str) -> Vec<Reference> {
    let Some(module) = module_path(path) else {
        return Vec::new();
    };
    let Some(from) = module.first() else {
        // lib.rs only declares the modules.
        return Vec::new();
    };
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for target in targets(code, &module) {
            if &target != from {
                out.push(Reference {
                    place: format!("src/{}:{}", path.display(), number + 1),
                    from: from.clone(),
                    to: target,
                });
            }
        }
    }
    out
}

/// The top-level modules a line's `crate::` and `super::` paths lead to, from `module`.
fn targets(code: &str, module: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let boundary = at == 0 || !is_ident(bytes[at - 1]);
        let (base, after): (Vec<String>, &str) = if boundary && rest.starts_with("crate::") {
            (Vec::new(), &rest["crate::".len()..])
        } else if boundary && rest.starts_with("super::") {
            // Each `super::` goes one module up.
            let mut base = module.to_vec();
            let mut after = rest;
            while let Some(next) = after.strip_prefix("super::") {
                base.pop();
                after = next;
            }
            (base, after)
        } else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        if let Some(top) = base.first() {
            out.push(top.clone());
        } else {
            out.extend(first_segments(after));
        }
        at = code.len() - after.len();
    }
    out
}

/// `measure::x` gives `measure`; `{measure::x, output}` gives both.
fn first_segments(path: &str) -> Vec<String> {
    if let Some(group) = path.strip_prefix('{') {
        let mut depth = 0;
        let mut out = Vec::new();
        let mut item_start = true;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                c if item_start && !c.is_whitespace() => {
                    item_start = false;
                    let name: String = group[i..]
                        .chars()
                        .take_while(|c| is_ident(*c as u8))
                        .collect();
                    if !name.is_empty() && name != "self" {
                        out.push(name);
                    }
                }
                _ => {}
            }
        }
        out
    } else {
        let name: String = path.chars().take_while(|c| is_ident(*c as u8)).collect();
        if name.is_empty() {
            Vec::new()
        } else {
            vec![name]
        }
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Each circle among the top-level modules, as `a -> b -> a` with one place per step.
fn circles(references: &[Reference]) -> Vec<String> {
    let mut edges: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for r in references {
        edges
            .entry(r.from.as_str())
            .or_default()
            .entry(r.to.as_str())
            .or_insert(r.place.as_str());
    }
    let mut out = Vec::new();
    let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
    for &start in edges.keys() {
        // Depth-first from `start`, looking for a way back to it.
        let mut stack: Vec<Vec<&str>> = vec![vec![start]];
        let mut seen = BTreeSet::new();
        while let Some(way) = stack.pop() {
            let last = *way.last().expect("never empty");
            for &next in edges.get(last).map(|e| e.keys()).into_iter().flatten() {
                if next == start {
                    let mut key = way.clone();
                    key.sort_unstable();
                    if reported.insert(key) {
                        let steps: Vec<String> = way
                            .iter()
                            .zip(way.iter().skip(1).chain([&start]))
                            .map(|(a, b)| format!("{a} -> {b} ({})", edges[a][b]))
                            .collect();
                        out.push(format!("import circle: {}", steps.join(", ")));
                    }
                } else if seen.insert(next) {
                    let mut longer = way.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
    out
}

/// The check itself can fail: a bad import in each way is named.
#[test]
fn the_check_names_an_import_against_the_order() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let good = [
        file("lib.rs", "pub mod report;\npub mod measure;\n"),
        file("report/mod.rs", "pub mod stats;\nuse stats::Stat;\n"),
        file(
            "report/stats.rs",
            "use super::Run; // crate::measure in a comment\n",
        ),
        file(
            "measure/noise.rs",
            "use crate::report::noise::Noise;\nuse crate::{report::Errors, workspace};\n",
        ),
        file("main.rs", "use bench::cli::args::Cli;\n"),
    ];
    assert_eq!(problems(&good), Vec::<String>::new());

    let mut up = good.to_vec();
    up.push(file(
        "report/answer.rs",
        "fn f() { crate::measure::conformance::DEADLINE; }\n",
    ));
    let found = problems(&up);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("src/report/answer.rs:1: the report model uses `measure`")),
        "{found:?}"
    );

    let mut sideways = good.to_vec();
    sideways.push(file(
        "output/charts.rs",
        "use crate::{report, measure::procfs};\n",
    ));
    sideways.push(file("measure/x.rs", "use super::super::output::escape;\n"));
    sideways.push(file(
        "output/escape.rs",
        "use crate::output::table::Cell;\n",
    ));
    let found = problems(&sideways);
    assert!(
        found
            .iter()
            .any(|p| p.contains("`output` uses `measure`, which is not below it")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("import circle: measure -> output")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p == "src/output/escape.rs:1: a leaf module uses the crate"),
        "{found:?}"
    );
}
