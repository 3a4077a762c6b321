//! The adapter lines of a backend: non-blank, non-comment lines of its `src/`, the report's
//! measure of how much code a framework asks for to serve the site.

use crate::workspace::binaries::workspace_root;

/// Non-blank lines of the adapter's `src/` that are not comments.
pub fn adapter_lines(backend: &str) -> Option<u64> {
    let dir = workspace_root()
        .join(format!("backend-{backend}"))
        .join("src");
    let mut total = 0;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "rs") {
            total += code_lines(&std::fs::read_to_string(entry.path()).ok()?);
        }
    }
    Some(total)
}

fn code_lines(source: &str) -> u64 {
    let mut in_block = false;
    let mut count = 0;
    for line in source.lines().map(str::trim) {
        if in_block {
            in_block = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.contains("*/");
            continue;
        }
        if !line.is_empty() && !line.starts_with("//") {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_not_comments_or_blanks() {
        let source = "//! doc\n\nfn a() {\n    // note\n    1\n}\n/* block\n still */\nconst B: u8 = 2; // trailing\n";
        assert_eq!(code_lines(source), 4);
    }
}
