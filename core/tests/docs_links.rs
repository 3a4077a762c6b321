//! The docs cannot drift from the code: every link in `README.md` and `docs/` stays inside the
//! repository and reaches a file that exists, and a link into Rust source names an item (a
//! function, type, constant, macro) that the file still defines, never a line number. The one
//! way out is a dependency's own source at the commit its published crate was built from
//! (a GitHub permalink at a full commit hash, which cannot change): docs/frameworks.md cites
//! each framework's accept loop that way.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ sits in the workspace root")
        .to_path_buf()
}

/// `README.md` and every `.md` under `docs/`.
fn documents() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut out = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("docs/ is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out
}

/// `(text, target)` of every inline Markdown link `[text](target)`.
fn links(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(open) = rest.find("](") {
        let before = &rest[..open];
        let text_start = before.rfind('[').map_or(0, |i| i + 1);
        let after = &rest[open + 2..];
        let Some(close) = after.find(')') else { break };
        out.push((before[text_start..].to_owned(), after[..close].to_owned()));
        rest = &after[close..];
    }
    out
}

/// Whether `target` is a GitHub permalink at a full 40-digit commit hash.
fn pinned_source(target: &str) -> bool {
    let Some(rest) = target.strip_prefix("https://github.com/") else {
        return false;
    };
    let parts: Vec<&str> = rest.splitn(5, '/').collect();
    matches!(
        parts.as_slice(),
        [owner, repo, "blob", commit, path]
            if !owner.is_empty()
                && !repo.is_empty()
                && !path.is_empty()
                && commit.len() == 40
                && commit.chars().all(|c| c.is_ascii_hexdigit())
    )
}

/// The item names a link's text gives in code spans: `` `Site::begin` `` names `begin`,
/// `` `get`/`post` `` names `get` and `post`, `` `with_checks!` `` names `with_checks`.
fn named_items(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(|span| {
            let span = span.split(['(', '<', ' ']).next().unwrap_or(span);
            let last = span.rsplit("::").next().unwrap_or(span);
            last.trim_end_matches('!').to_owned()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// Whether `source` defines `name` as an item.
fn defines(source: &str, name: &str) -> bool {
    const KINDS: [&str; 9] = [
        "fn ",
        "struct ",
        "enum ",
        "type ",
        "const ",
        "static ",
        "trait ",
        "mod ",
        "macro_rules! ",
    ];
    source.lines().any(|line| {
        KINDS.iter().any(|kind| {
            line.split(kind).skip(1).any(|after| {
                after.starts_with(name)
                    && !after[name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            })
        })
    })
}

#[test]
fn every_link_stays_in_the_repository_and_names_an_existing_item() {
    let mut problems = Vec::new();
    for document in documents() {
        let markdown = std::fs::read_to_string(&document).expect("readable document");
        let here = document.parent().expect("a document has a folder");
        let shown = document
            .strip_prefix(workspace_root())
            .unwrap_or(&document)
            .display()
            .to_string();
        for (text, target) in links(&markdown) {
            let mut problem =
                |why: String| problems.push(format!("{shown}: [{text}]({target}): {why}"));
            if pinned_source(&target) {
                continue;
            }
            if target.contains("://") || target.starts_with("mailto:") {
                problem(
                    "links outside the repository; describe it in words instead (or, for a \
                     dependency's source, link it at a full commit hash)"
                        .into(),
                );
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            if path.is_empty() {
                continue; // a heading of the same page
            }
            let file = here.join(path);
            let Ok(source) = std::fs::read_to_string(&file) else {
                if !file.is_dir() {
                    problem("no such file".into());
                }
                continue;
            };
            if !path.ends_with(".rs") {
                continue;
            }
            if !anchor.is_empty() {
                problem("a line anchor into code drifts; name the item in the link text".into());
            }
            for name in named_items(&text) {
                if !defines(&source, &name) {
                    problem(format!("{path} defines no item named `{name}`"));
                }
            }
        }
        // Spelt in two pieces so that a grep for the path finds no file, this one included.
        if markdown.contains(concat!("..", "/shared")) {
            problems.push(format!(
                "{shown}: points at the contracts' folder beside the repository, which a clone does not have"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} broken links:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_link_reader_understands_what_the_docs_write() {
    let found = links("see [`Site::begin`](../core/src/site.rs) and [`get`/`post`](a.rs#L1).");
    assert_eq!(
        found,
        [
            ("`Site::begin`".to_owned(), "../core/src/site.rs".to_owned()),
            ("`get`/`post`".to_owned(), "a.rs#L1".to_owned()),
        ]
    );
    assert_eq!(named_items("`get`/`post`"), ["get", "post"]);
    assert_eq!(named_items("`with_checks!`"), ["with_checks"]);
    assert_eq!(named_items("`Target::in_process(..)`"), ["in_process"]);
    let source = "pub fn begin(&self) {}\nfn beginning() {}\nmacro_rules! with_checks {}\n";
    assert!(defines(source, "begin"));
    assert!(defines(source, "with_checks"));
    assert!(!defines(source, "begi"));
    assert!(!defines(source, "end"));
    let at = "https://github.com/rwf2/Rocket/blob/58a3554a5001a9228b09bdefa87adc8939d818dc";
    assert!(pinned_source(&format!(
        "{at}/core/http/src/listener.rs#L145-L195"
    )));
    assert!(!pinned_source(
        "https://github.com/rwf2/Rocket/blob/v0.5.2/core/http/src/listener.rs"
    ));
    assert!(!pinned_source(&format!("{at}/")));
    assert!(!pinned_source("https://example.com/a/b/blob/x/y"));
}
