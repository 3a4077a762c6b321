//! The one-line edit `bench build-cost` makes inside an adapter's `plaintext` handler to time
//! cargo after a change, and its undoing: the adapter is a file of the tree, so it must come
//! back byte for byte whatever happens. Its original is copied into a backup directory before
//! the edit is written, and written back by [`Edit::undo`], by the guard's `Drop` (a failed
//! build), by the signal handler (Ctrl-C, SIGTERM, SIGHUP) and, after a `kill -9`, by
//! [`recover`] when build-cost starts again. Cargo runs in a process group of its own so that
//! the handler can stop it, and everything else it started, before the process ends.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::signal::unix::{SignalKind, signal};

/// The handler edited in every adapter: each has one, and its body is one or two lines.
pub const HANDLER: &str = "plaintext";

/// Ends the line an edit inserts, so that an edit left in a tree is recognised for what it is.
pub const MARK: &str = "bench build-cost: an edit, undone by the tool";

/// A finished backup's extension; a backup being written has [`PARTIAL`], so that a kill while
/// writing it never leaves a truncated original to be "restored".
const BACKUP: &str = "backup";
const PARTIAL: &str = "partial";

/// Held around every write of an adapter or a backup: the signal handler takes it and keeps it
/// until the process ends, so no edit can be written after it has restored the originals.
static FILES: Mutex<()> = Mutex::new(());

/// The cargo running now, if any (its pid, which is also its process group).
static CHILD: Mutex<Option<u32>> = Mutex::new(None);

/// Target directories to remove on a signal: `process::exit` runs no destructor, so their
/// `TempDir`s would leave gigabytes of build behind.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A lock whose holder panicked is still good: the data it guards is only a pid or a list.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `source` with one line added at the top of the handler's body: a call the compiler cannot
/// see through, with `n` in it, so that every edit is a change of code (not of a comment) and
/// no two edits give the same file. The line ending is the file's own.
pub fn edited(source: &str, n: u32) -> Result<String, String> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let not_found = || format!("no `fn {HANDLER}(` whose body opens with a `{{` ending a line");
    let header = lines
        .iter()
        .position(|line| opens_handler(line))
        .ok_or_else(not_found)?;
    let body = header
        + lines[header..]
            .iter()
            .position(|line| line.trim_end().ends_with('{'))
            .ok_or_else(not_found)?;
    let ending = if lines[body].ends_with("\r\n") {
        "\r\n"
    } else if lines[body].ends_with('\n') {
        "\n"
    } else {
        return Err(format!(
            "the body of `{HANDLER}` opens on the file's last line"
        ));
    };
    let indent = &lines[header][..lines[header].len() - lines[header].trim_start().len()];
    let added = format!("{indent}    std::hint::black_box({n}u32); // {MARK}{ending}");
    Ok([lines[..=body].concat(), added, lines[body + 1..].concat()].concat())
}

/// Whether `line` starts the handler's signature: `fn plaintext(`, maybe `async`, maybe `pub`.
fn opens_handler(line: &str) -> bool {
    let mut rest = line.trim_start();
    for prefix in ["pub(crate) ", "pub ", "async "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    rest.starts_with(&format!("fn {HANDLER}("))
}

/// An edit in place: dropping it undoes it, so a build that fails (an early return with `?`)
/// or panics leaves the adapter as it was.
#[derive(Debug)]
pub struct Edit {
    adapter: PathBuf,
    backup: PathBuf,
    original: Vec<u8>,
    undone: bool,
}

impl Edit {
    /// Writes the edit `n` into `adapter` once its original is safe in `backup_dir`. Refuses
    /// an adapter whose backup is already there: overwriting that backup with an edited file
    /// would lose the original.
    pub fn make(adapter: &Path, backup_dir: &Path, n: u32) -> Result<Self, String> {
        let adapter =
            std::path::absolute(adapter).map_err(|e| format!("{}: {e}", adapter.display()))?;
        let original = std::fs::read(&adapter)
            .map_err(|e| format!("cannot read {}: {e}", adapter.display()))?;
        let text = std::str::from_utf8(&original)
            .map_err(|e| format!("{} is not UTF-8: {e}", adapter.display()))?;
        let changed = edited(text, n).map_err(|e| format!("{}: {e}", adapter.display()))?;
        let where_from = adapter.as_os_str().as_bytes();
        if where_from.contains(&b'\n') {
            return Err(format!(
                "{}: a path with a line break cannot head its backup",
                adapter.display()
            ));
        }
        let mut contents = Vec::with_capacity(where_from.len() + 1 + original.len());
        contents.extend_from_slice(where_from);
        contents.push(b'\n');
        contents.extend_from_slice(&original);
        let backup = backup_dir.join(backup_name(&adapter));

        let _files = lock(&FILES);
        if backup.exists() {
            return Err(format!(
                "{} has an edit in place already: its original is in {}",
                adapter.display(),
                backup.display()
            ));
        }
        std::fs::create_dir_all(backup_dir)
            .map_err(|e| format!("cannot create {}: {e}", backup_dir.display()))?;
        let partial = backup.with_extension(PARTIAL);
        std::fs::write(&partial, &contents)
            .and_then(|()| std::fs::rename(&partial, &backup))
            .map_err(|e| {
                let (from, to) = (adapter.display(), backup.display());
                format!("cannot back {from} up in {to}: {e}")
            })?;
        if let Err(e) = std::fs::write(&adapter, changed) {
            // The write may have truncated the file before it failed.
            let restored =
                std::fs::write(&adapter, &original).and_then(|()| std::fs::remove_file(&backup));
            return Err(match restored {
                Ok(()) => format!("cannot write {}: {e}", adapter.display()),
                Err(again) => format!(
                    "cannot write {}: {e}; nor write it back ({again}): its original is in {}",
                    adapter.display(),
                    backup.display()
                ),
            });
        }
        Ok(Self {
            adapter,
            backup,
            original,
            undone: false,
        })
    }

    /// Writes the original back, then removes its backup (in that order: a kill in between
    /// leaves a backup that restores nothing new, never an edit without a backup).
    pub fn undo(mut self) -> Result<(), String> {
        let _files = lock(&FILES);
        self.restore()
    }

    /// The caller holds [`FILES`].
    fn restore(&mut self) -> Result<(), String> {
        if self.undone {
            return Ok(());
        }
        std::fs::write(&self.adapter, &self.original)
            .map_err(|e| format!("cannot write {} back: {e}", self.adapter.display()))?;
        std::fs::remove_file(&self.backup)
            .map_err(|e| format!("cannot remove {}: {e}", self.backup.display()))?;
        self.undone = true;
        Ok(())
    }
}

impl Drop for Edit {
    fn drop(&mut self) {
        if self.undone {
            return;
        }
        let _files = lock(&FILES);
        if let Err(e) = self.restore() {
            eprintln!(
                "bench build-cost: undoing the edit of {} failed: {e}",
                self.adapter.display()
            );
        }
    }
}

/// The backup's file name: the adapter's crate directory with the file's name
/// (`backend-axum.lib.rs.backup`), unique among the adapters of one workspace.
fn backup_name(adapter: &Path) -> String {
    let file = adapter
        .file_name()
        .map_or_else(|| "adapter".into(), |f| f.to_string_lossy());
    let crate_dir = adapter
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .map_or_else(|| "workspace".into(), |d| d.to_string_lossy());
    format!("{crate_dir}.{file}.{BACKUP}")
}

/// Writes back every adapter whose backup a killed run left in `backup_dir`, and removes the
/// backups. Returns the adapters it changed (a run killed between its backup and its edit
/// left one that was never edited: it is not rewritten, so cargo need not rebuild it).
pub fn recover(backup_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let _files = lock(&FILES);
    recover_holding_files(backup_dir)
}

/// The caller holds [`FILES`].
fn recover_holding_files(backup_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match std::fs::read_dir(backup_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", backup_dir.display())),
    };
    let mut restored = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", backup_dir.display()))?
            .path();
        let extension = path.extension().and_then(|e| e.to_str());
        if extension == Some(PARTIAL) {
            // Killed while backing up: the adapter was not edited yet.
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            continue;
        }
        if extension != Some(BACKUP) {
            continue;
        }
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let split = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| format!("{}: not a backup of bench build-cost", path.display()))?;
        let adapter = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes[..split]));
        let original = &bytes[split + 1..];
        if std::fs::read(&adapter).ok().as_deref() != Some(original) {
            std::fs::write(&adapter, original).map_err(|e| {
                let (to, from) = (adapter.display(), path.display());
                format!("cannot write {to} back: {e} (its original is in {from})")
            })?;
            restored.push(adapter);
        }
        std::fs::remove_file(&path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    }
    restored.sort();
    Ok(restored)
}

/// Runs `command` (a cargo) to its end in a process group of its own, known to the signal
/// handler while it runs. Its own group: Ctrl-C reaches only bench, whose handler then stops
/// cargo and every rustc under it at once (a signal to cargo alone leaves its rustcs running).
pub fn run_watched(command: &mut Command) -> std::io::Result<ExitStatus> {
    let mut child = {
        // Held while spawning, so the handler either sees this pid or has already stopped
        // everything (it keeps the lock until the process ends, so no cargo starts after it).
        let mut running = lock(&CHILD);
        let child = command.process_group(0).spawn()?;
        *running = Some(child.id());
        child
    };
    let status = child.wait();
    *lock(&CHILD) = None;
    status
}

/// A target directory the signal handler removes, for as long as this lives.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn register(dir: &Path) -> Self {
        lock(&SCRATCH).push(dir.to_path_buf());
        Self(dir.to_path_buf())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        lock(&SCRATCH).retain(|dir| dir != &self.0);
    }
}

/// From now until the process ends, SIGINT, SIGTERM or SIGHUP restores the adapters backed up
/// in `backup_dir`, stops the running cargo, removes the scratch target directories and ends
/// the process (status 128 + the signal's number, as a shell reports a death by signal). The
/// signals are listened for before this returns, so none can kill the process with an edit
/// in place from then on.
pub fn restore_on_interrupt(backup_dir: PathBuf) -> Result<(), String> {
    let cannot = |e: std::io::Error| format!("cannot listen for signals: {e}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(cannot)?;
    let (mut interrupt, mut terminate, mut hangup) = {
        let _entered = runtime.enter();
        (
            signal(SignalKind::interrupt()).map_err(cannot)?,
            signal(SignalKind::terminate()).map_err(cannot)?,
            signal(SignalKind::hangup()).map_err(cannot)?,
        )
    };
    std::thread::Builder::new()
        .name("build-cost-signals".into())
        .spawn(move || {
            let received = runtime.block_on(async {
                tokio::select! {
                    Some(()) = interrupt.recv() => Some(("SIGINT", 2)),
                    Some(()) = terminate.recv() => Some(("SIGTERM", 15)),
                    Some(()) = hangup.recv() => Some(("SIGHUP", 1)),
                    else => None,
                }
            });
            if let Some((name, number)) = received {
                on_signal(name, number, &backup_dir);
            }
        })
        .map_err(cannot)?;
    Ok(())
}

/// Keeps every lock until the process ends, so that nothing is edited or started after the
/// originals are back. Writes to stderr without `eprintln!`, which panics when the terminal
/// is gone (SIGHUP), and a panic here would end this thread instead of the process.
fn on_signal(name: &str, number: i32, backup_dir: &Path) {
    let _files = lock(&FILES);
    let restored = recover_holding_files(backup_dir);
    let running = lock(&CHILD);
    if let Some(pid) = *running {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    }
    let scratch = lock(&SCRATCH);
    for dir in scratch.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut stderr = std::io::stderr().lock();
    match restored {
        Ok(adapters) => {
            for adapter in adapters {
                let _ = writeln!(stderr, "{name}: restored {}", adapter.display());
            }
        }
        Err(e) => {
            let _ = writeln!(stderr, "{name}: restoring the adapter failed: {e}");
        }
    }
    let _ = writeln!(stderr, "{name}: bench build-cost stopped");
    std::process::exit(128 + number);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::binaries::workspace_root;

    const ODD: &str = "// café, ünïcode\r\nasync fn plaintext(x: u8) -> u8 {\r\n    x\r\n}";

    /// Every adapter of the workspace, with its source.
    fn adapters() -> Vec<(PathBuf, String)> {
        let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(workspace_root())
            .expect("the workspace")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("backend-"))
            .map(|e| e.path().join("src/lib.rs"))
            .filter(|p| p.is_file())
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("an adapter");
                (p, text)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_edit_is_one_line_at_the_top_of_every_adapters_handler() {
        let adapters = adapters();
        assert!(adapters.len() >= 8, "{} adapters", adapters.len());
        for (path, source) in adapters {
            let changed = edited(&source, 7).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let before: Vec<&str> = source.lines().collect();
            let after: Vec<&str> = changed.lines().collect();
            assert_eq!(after.len(), before.len() + 1, "{}", path.display());
            let added = after
                .iter()
                .position(|l| l.contains(MARK))
                .unwrap_or_else(|| panic!("{}: no edit", path.display()));
            assert!(
                after[added]
                    .trim_start()
                    .starts_with("std::hint::black_box(7u32);"),
                "{}: {}",
                path.display(),
                after[added]
            );
            // The line before opens the body of the handler, whose signature is at or above it.
            assert!(
                after[added - 1].trim_end().ends_with('{'),
                "{}",
                path.display()
            );
            let signature = after[..added]
                .iter()
                .rposition(|l| l.contains(&format!("fn {HANDLER}(")))
                .unwrap_or_else(|| panic!("{}: no handler above the edit", path.display()));
            assert!(
                after[signature..added - 1]
                    .iter()
                    .all(|l| !l.trim_end().ends_with('{')),
                "{}: the edit is not in the handler's body",
                path.display()
            );
            let mut undone = after.clone();
            undone.remove(added);
            assert_eq!(undone, before, "{}", path.display());
            assert_eq!(
                changed.replacen(&format!("{}\n", after[added]), "", 1),
                source,
                "{}",
                path.display()
            );
            assert_ne!(
                edited(&source, 8).ok(),
                Some(changed.clone()),
                "{}",
                path.display()
            );
        }
    }

    #[test]
    fn the_edit_keeps_crlf_and_needs_the_handler() {
        let changed = edited(ODD, 3).expect("edited");
        assert_eq!(
            changed,
            format!(
                "// café, ünïcode\r\nasync fn plaintext(x: u8) -> u8 {{\r\n    \
                 std::hint::black_box(3u32); // {MARK}\r\n    x\r\n}}"
            )
        );
        let multi_line =
            "impl X {\n    pub fn plaintext(\n        a: u8,\n    ) -> u8 {\n    a\n}\n";
        let changed = edited(multi_line, 1).expect("edited");
        assert!(
            changed.contains(&format!(
                "    ) -> u8 {{\n        std::hint::black_box(1u32); // {MARK}\n    a\n"
            )),
            "{changed}"
        );
        let refused = edited("fn json() -> u8 {\n    1\n}\n", 1);
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("fn plaintext(")),
            "{refused:?}"
        );
        assert!(edited("fn plaintext() {", 1).is_err());
    }

    /// A scratch copy of `ODD` (no final line break, CRLF, non-ASCII) and a backup directory.
    fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let adapter = dir.path().join("backend-odd/src/lib.rs");
        std::fs::create_dir_all(adapter.parent().expect("a parent")).expect("created");
        std::fs::write(&adapter, ODD).expect("written");
        let backups = dir.path().join("target/bench-edits");
        (dir, adapter, backups)
    }

    fn backups_left(backups: &Path) -> usize {
        std::fs::read_dir(backups).map_or(0, Iterator::count)
    }

    #[test]
    fn undo_and_drop_restore_the_bytes_and_remove_the_backup() {
        let (_dir, adapter, backups) = scratch();
        let edit = Edit::make(&adapter, &backups, 5).expect("made");
        let during = std::fs::read_to_string(&adapter).expect("read");
        assert!(during.contains(MARK), "{during}");
        assert_eq!(backups_left(&backups), 1);
        edit.undo().expect("undone");
        assert_eq!(std::fs::read(&adapter).expect("read"), ODD.as_bytes());
        assert_eq!(backups_left(&backups), 0);

        {
            let _edit = Edit::make(&adapter, &backups, 6).expect("made");
            // A second edit of the same file would back the edited text up: refused.
            let again = Edit::make(&adapter, &backups, 7);
            assert!(again.is_err(), "{again:?}");
            let during = std::fs::read_to_string(&adapter).expect("read");
            assert!(during.contains("black_box(6u32)"), "{during}");
        }
        assert_eq!(std::fs::read(&adapter).expect("read"), ODD.as_bytes());
        assert_eq!(backups_left(&backups), 0);
    }

    #[test]
    fn recover_restores_what_a_killed_run_left() {
        let (_dir, adapter, backups) = scratch();
        assert_eq!(recover(&backups), Ok(Vec::new()));
        // As if the process were killed with the edit in place: no undo, no drop.
        std::mem::forget(Edit::make(&adapter, &backups, 9).expect("made"));
        assert_ne!(std::fs::read(&adapter).expect("read"), ODD.as_bytes());
        let restored = recover(&backups).expect("recovered");
        assert_eq!(
            restored,
            vec![std::path::absolute(&adapter).expect("absolute")]
        );
        assert_eq!(std::fs::read(&adapter).expect("read"), ODD.as_bytes());
        assert_eq!(backups_left(&backups), 0);
        // Nothing left to do.
        assert_eq!(recover(&backups), Ok(Vec::new()));
    }
}
