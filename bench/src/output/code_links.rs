//! Links from `report.html` to the adapter code behind each figure (BENCH.md section 5: "each
//! server's row links to its adapter's handler code by name"): which handler function of
//! `backend-<name>/src/lib.rs` serves each scenario, found by name in the source when the page
//! is written, and linked by a path relative to the page, so a report committed under
//! `docs/results/` links `../../backend-axum/src/lib.rs#L120` and works in a clone and on a
//! code host alike. Servers with no adapter in this workspace (floor, external servers), an
//! adapter file that is not there, or a page whose directory is unknown get the name without
//! a link.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use crate::output::escape;
use crate::report::{Report, Role};
use crate::workspace::backends;
use crate::workspace::binaries::workspace_root;

/// The handler functions that serve a scenario, the same names in every adapter (each lists
/// its routes at the top of its `lib.rs`). `mixed` goes through most routes: its link is the
/// route table itself; `storm` is plaintext beside logins; the connection scenarios are
/// plaintext and how the adapter sets up its server (`serve`: its accept loop, or the
/// framework's, and the connection settings).
pub fn handler_names(scenario: &str) -> &'static [&'static str] {
    match scenario {
        "plaintext" => &["plaintext"],
        "json" => &["json"],
        "static" | "static-304" => &["static_file"],
        "hello" => &["hello"],
        "status" => &["status"],
        "me" => &["me"],
        "login" => &["login"],
        "signup" => &["sign_up"],
        "mixed" => &["app"],
        "storm" => &["plaintext", "login"],
        "plaintext-close" | "plaintext-pipelined" => &["plaintext", "serve"],
        _ => &[],
    }
}

/// A function of an adapter, and where it is when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `backend-axum/src/lib.rs`.
    pub file: String,
    /// `plaintext`.
    pub function: String,
    /// `../../backend-axum/src/lib.rs#L120`, relative to the page.
    pub href: Option<String>,
}

impl Link {
    /// `backend-axum/src/lib.rs: fn plaintext`.
    pub fn text(&self) -> String {
        format!("{}: fn {}", self.file, self.function)
    }

    /// The link as HTML showing [`Link::text`], or the text alone when there is no target.
    pub fn html(&self) -> String {
        self.html_as(&self.text())
    }

    /// The link as HTML showing `label`, with the whole text as its tooltip.
    pub fn html_as(&self, label: &str) -> String {
        let (label, title) = (escape::html(label), escape::html(&self.text()));
        match &self.href {
            Some(href) => format!(
                "<a href=\"{}\" title=\"{title}\">{label}</a>",
                escape::html(href)
            ),
            None => format!("<span title=\"{title}\">{label}</span>"),
        }
    }
}

/// One adapter's source file: its path in the workspace, its URL from the page, its text.
struct Adapter {
    file: String,
    url: Option<String>,
    source: Option<String>,
}

/// The adapters of a report's servers, read once per page.
pub struct CodeLinks {
    adapters: BTreeMap<String, Adapter>,
}

impl CodeLinks {
    /// For a page written into `page_dir` (`None`: unknown, so names without links).
    pub fn new(report: &Report, page_dir: Option<&Path>) -> Self {
        let root = workspace_root();
        let page_dir = page_dir.and_then(|d| std::fs::canonicalize(d).ok());
        let mut adapters = BTreeMap::new();
        for backend in &report.backends {
            // Only the workspace's own adapters: an external server may share a name.
            if !matches!(backend.role, Role::Baseline | Role::Framework)
                || !backends::ALL.iter().any(|b| b.name == backend.name)
            {
                continue;
            }
            let file = format!("backend-{}/src/lib.rs", backend.name);
            let path = root.join(&file);
            let source = std::fs::read_to_string(&path).ok();
            let url = match (&page_dir, &source) {
                (Some(dir), Some(_)) => std::fs::canonicalize(&path)
                    .ok()
                    .and_then(|target| relative_url(dir, &target)),
                _ => None,
            };
            adapters.insert(backend.name.clone(), Adapter { file, url, source });
        }
        Self { adapters }
    }

    /// The handlers of `scenario` in `backend`'s adapter; empty for a server with no adapter.
    pub fn handlers(&self, backend: &str, scenario: &str) -> Vec<Link> {
        handler_names(scenario)
            .iter()
            .filter_map(|name| self.function(backend, name))
            .collect()
    }

    /// `backend`'s route table (`fn app`), where every handler is listed.
    pub fn routes(&self, backend: &str) -> Option<Link> {
        self.function(backend, "app")
    }

    fn function(&self, backend: &str, name: &str) -> Option<Link> {
        let adapter = self.adapters.get(backend)?;
        let line = adapter.source.as_deref().and_then(|s| line_of(s, name));
        Some(Link {
            file: adapter.file.clone(),
            function: name.to_owned(),
            href: adapter
                .url
                .as_ref()
                .zip(line)
                .map(|(url, line)| format!("{url}#L{line}")),
        })
    }
}

/// The line (from 1) where `fn name` is defined: `fn name(` or `fn name<`, not in a comment.
pub fn line_of(source: &str, name: &str) -> Option<usize> {
    let wanted = format!("fn {name}");
    source
        .lines()
        .position(|line| {
            let code = line.split("//").next().unwrap_or("");
            code.match_indices(&wanted).any(|(at, _)| {
                let before = code[..at].chars().next_back();
                let after = code[at + wanted.len()..].chars().next();
                before.is_none_or(|c| !c.is_alphanumeric() && c != '_')
                    && matches!(after, Some('(' | '<'))
            })
        })
        .map(|i| i + 1)
}

/// The URL of `target` relative to the directory `from` (both absolute, normalised):
/// `../../backend-axum/src/lib.rs`. `None` when a path is not UTF-8 or they share no root.
pub fn relative_url(from: &Path, target: &Path) -> Option<String> {
    let parts = |p: &Path| -> Option<Vec<String>> {
        p.components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str().map(str::to_owned),
                Component::RootDir => Some("/".to_owned()),
                Component::Prefix(p) => p.as_os_str().to_str().map(str::to_owned),
                Component::CurDir | Component::ParentDir => None,
            })
            .collect()
    };
    let from = parts(from)?;
    let target = parts(target)?;
    let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut url: Vec<String> = vec!["..".to_owned(); from.len() - common];
    url.extend(target[common..].iter().map(|part| encode(part)));
    (!url.is_empty()).then(|| url.join("/"))
}

/// A path segment for a URL: the characters a path may hold that a URL may not.
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for c in segment.chars() {
        match c {
            ' ' | '#' | '?' | '%' | '"' | '<' | '>' | '\\' => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn relative_urls_climb_out_of_the_page_directory() {
        assert_eq!(
            relative_url(
                Path::new("/w/docs/results"),
                Path::new("/w/backend-axum/src/lib.rs")
            )
            .as_deref(),
            Some("../../backend-axum/src/lib.rs")
        );
        assert_eq!(
            relative_url(Path::new("/w"), Path::new("/w/backend-axum/src/lib.rs")).as_deref(),
            Some("backend-axum/src/lib.rs")
        );
        assert_eq!(
            relative_url(Path::new("/tmp/a b"), Path::new("/w/x#1.rs")).as_deref(),
            Some("../../w/x%231.rs")
        );
    }

    #[test]
    fn a_function_is_found_by_name_not_by_prefix_or_comment() {
        let source = "// fn plaintext( is a comment\nfn plaintext_x() {}\n\
                      async fn plaintext(site: &Site) {}\nfn static_file<'r>() {}\n";
        assert_eq!(line_of(source, "plaintext"), Some(3));
        assert_eq!(line_of(source, "static_file"), Some(4));
        assert_eq!(line_of(source, "json"), None);
    }

    #[test]
    fn every_scenario_links_to_a_handler_in_every_adapter() {
        let mut report = sample();
        let template = report.backends[0].clone();
        for backend in backends::ALL {
            let mut b = template.clone();
            b.name = backend.name.into();
            report.backends.push(b);
        }
        let mut floor = template.clone();
        floor.name = "floor".into();
        floor.role = Role::Reference;
        report.backends.push(floor);
        let dir = tempfile::tempdir().expect("tempdir");
        let links = CodeLinks::new(&report, Some(dir.path()));
        for backend in backends::ALL {
            for scenario in crate::report::scenario::Scenario::ALL {
                let found = links.handlers(backend.name, scenario.name());
                assert!(!found.is_empty(), "{} {}", backend.name, scenario.name());
                for link in found {
                    let href = link.href.as_deref().unwrap_or_default();
                    assert!(
                        href.contains(&format!("backend-{}/src/lib.rs#L", backend.name)),
                        "{} {}: {link:?}",
                        backend.name,
                        scenario.name()
                    );
                }
            }
            assert!(links.routes(backend.name).is_some_and(|l| l.href.is_some()));
        }
        assert!(links.handlers("floor", "plaintext").is_empty());
        // Without the page's directory: the names, no links.
        let names = CodeLinks::new(&report, None).handlers("axum", "plaintext");
        assert_eq!(
            names,
            [Link {
                file: "backend-axum/src/lib.rs".into(),
                function: "plaintext".into(),
                href: None
            }]
        );
        assert_eq!(
            names[0].html_as("fn plaintext"),
            "<span title=\"backend-axum/src/lib.rs: fn plaintext\">fn plaintext</span>"
        );
    }
}
