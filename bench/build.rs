//! Makes the list of backends from the workspace's own `members` (every `backend-<name>`
//! member is a backend), each backend's `[package.metadata.sitebench] framework` and the
//! deviations its `DEVIATIONS` constant declares, so adding a backend to the workspace adds
//! it to the bench, its reports and the scripts. The deviations are read from the source
//! rather than by depending on the backends (which would link five frameworks into `bench`);
//! a name that is no `site_core::Deviation` fails to compile.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The no-framework baseline leads every list (BENCH.md 4.3).
const BASELINE: &str = "hyper";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("bench/ sits in the workspace root");
    let workspace = root.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", workspace.display());
    let mut names = backend_members(&read(&workspace));
    names.sort_by_key(|name| name != BASELINE);
    let mut table = String::from("&[\n");
    for name in &names {
        let manifest = root.join(format!("backend-{name}")).join("Cargo.toml");
        println!("cargo:rerun-if-changed={}", manifest.display());
        let framework = framework(&read(&manifest)).unwrap_or_else(|| {
            panic!(
                "{} needs `[package.metadata.sitebench] framework = \"<crate>\"`",
                manifest.display()
            )
        });
        let source = root.join(format!("backend-{name}")).join("src/lib.rs");
        println!("cargo:rerun-if-changed={}", source.display());
        let deviations: Vec<String> = deviations(&read(&source))
            .iter()
            .map(|d| format!("site_core::Deviation::{d}"))
            .collect();
        writeln!(
            table,
            "    Backend {{ name: {name:?}, framework: {framework:?}, deviations: &[{}] }},",
            deviations.join(", ")
        )
        .expect("write to string");
    }
    table.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("backends.rs");
    std::fs::write(out, table).expect("write the backend table");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `"backend-axum"` entries of `members = [...]`, as `axum`.
fn backend_members(workspace: &str) -> Vec<String> {
    let start = workspace
        .find("members")
        .expect("a [workspace] members list");
    let list = &workspace[start..];
    let list = &list[list.find('[').expect("members = [")..list.find(']').expect("]")];
    list.split('"')
        .skip(1)
        .step_by(2)
        .filter_map(|member| member.strip_prefix("backend-"))
        .map(str::to_owned)
        .collect()
}

/// `framework = "..."` under `[package.metadata.sitebench]`.
fn framework(manifest: &str) -> Option<String> {
    let section = &manifest[manifest.find("[package.metadata.sitebench]")?..];
    let line = section
        .lines()
        .find(|l| l.trim_start().starts_with("framework"))?;
    Some(line.split('"').nth(1)?.to_owned())
}

/// The variants named in `pub const DEVIATIONS: [Deviation; N] = [...];`, comments left out.
fn deviations(source: &str) -> Vec<String> {
    let Some(start) = source.find("pub const DEVIATIONS") else {
        return Vec::new();
    };
    let rest = &source[start..];
    // The value: after `=` (the type has a `;` of its own), up to the `;` that ends it.
    let value = rest.split_once('=').map_or("", |(_, v)| v);
    let value = value.split(';').next().unwrap_or("");
    value
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .flat_map(|line| line.split("Deviation::").skip(1))
        .map(|tail| {
            tail.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}
