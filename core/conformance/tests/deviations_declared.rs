//! Every kind of deviation the suite knows is declared by some backend: a variant no
//! backend declares is a rule the suite would bend for nobody, and is removed.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("core/conformance/ sits two levels under the workspace root")
        .to_path_buf()
}

/// The variant names of `enum Deviation` in site-core's `deviations.rs`.
fn variants(source: &str) -> Vec<String> {
    let body = source
        .split("pub enum Deviation {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect("site-core declares `pub enum Deviation { .. }`");
    body.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && !line.starts_with('#'))
        .filter_map(|line| line.strip_suffix(','))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_deviation_is_declared_by_a_backend() {
    let root = workspace_root();
    let declared: String = std::fs::read_dir(&root)
        .expect("workspace root")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("backend-"))
        .filter_map(|e| std::fs::read_to_string(e.path().join("src/lib.rs")).ok())
        .collect();
    let source = std::fs::read_to_string(root.join("core/src/deviations.rs"))
        .expect("core/src/deviations.rs");
    let kinds = variants(&source);
    assert!(!kinds.is_empty(), "no variants read from deviations.rs");
    let undeclared: Vec<&String> = kinds
        .iter()
        .filter(|kind| !declared.contains(&format!("Deviation::{kind}")))
        .collect();
    assert!(
        undeclared.is_empty(),
        "no backend declares {undeclared:?}: remove the variant (and what the suite does for it)"
    );
}

#[test]
fn variants_are_read_from_the_enum_only() {
    let source = "/// doc\npub enum Deviation {\n    /// why\n    A,\n    #[doc = \"x\"]\n    Bee,\n}\nconst C: u8 = 1;\n";
    assert_eq!(variants(source), ["A", "Bee"]);
}
