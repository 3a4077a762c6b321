//! The git revision a report was measured at.

use std::process::Command;

use crate::workspace::binaries::workspace_root;

/// `git rev-parse --short HEAD`, with `-dirty` when the tree has uncommitted changes.
pub fn git_revision() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(workspace_root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let head = git(&["rev-parse", "--short", "HEAD"])?;
    let mut revision = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    if git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|o| !o.stdout.is_empty())
    {
        revision.push_str("-dirty");
    }
    Some(revision)
}
