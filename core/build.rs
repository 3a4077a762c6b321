//! Embeds `static/` into the binary: a table of every regular file with its bytes (by
//! `include_bytes!`) and its modification time at build time, for `Last-Modified`.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("static");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (relative, absolute, modified) in files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        writeln!(
            table,
            "    EmbeddedFile {{ path: {relative:?}, bytes: include_bytes!({:?}), modified_secs: {modified} }},",
            absolute.display().to_string()
        )
        .expect("write to string");
    }
    table.push(']');
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("embedded_static.rs");
    std::fs::write(out, table).expect("write embedded table");
}

/// Regular files below `dir`, skipping dotfiles and symbolic links as the server would.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf, u64)>) {
    let entries = std::fs::read_dir(dir).expect("static/ is readable");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name.starts_with('.') || kind.is_symlink() {
            continue;
        }
        let path = entry.path();
        if kind.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files);
        } else if kind.is_file() {
            let relative = path
                .strip_prefix(root)
                .expect("below root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            files.push((relative, path, modified));
        }
    }
}
