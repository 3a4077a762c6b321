//! `bench build-cost` leaves the adapter it edits byte for byte as it was: when a build after
//! the edit fails, when the run is interrupted (SIGINT) while cargo builds the edit, and when
//! it is killed outright (SIGKILL, which nothing can catch: the next run restores it first).
//! The real `bench` runs on a scratch copy of the workspace (`SITEBENCH_WORKSPACE`) with a
//! stand-in cargo (`CARGO`) that is quick on the adapter as it was and, once it sees the edit,
//! fails or hangs. One test, so the cases run one after the other.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The stand-in cargo, run by bench in the workspace's root. The line bench inserts ends with
/// the comment this looks for. It logs each command with whether the adapter was edited, and
/// the target directory; hanging, it writes its pid (kept by `exec`) for the test.
const FAKE_CARGO: &str = r#"#!/bin/sh
edited=0
if grep -q 'bench build-cost: an edit' backend-axum/src/lib.rs; then
    edited=1
fi
echo "$edited $*" >> "$FAKE_CARGO_LOG"
echo "$CARGO_TARGET_DIR" >> "$FAKE_CARGO_LOG.targets"
if [ "$edited" = 1 ]; then
    case "$FAKE_CARGO_MODE" in
        ok) exit 0 ;;
        fail) exit 101 ;;
        *) echo $$ > "$FAKE_CARGO_PID.partial" && mv "$FAKE_CARGO_PID.partial" "$FAKE_CARGO_PID"
           exec sleep 60 ;;
    esac
fi
exit 0
"#;

/// A scratch workspace: the axum adapter, `target/`, `docs/` and the stand-in cargo.
struct Workspace {
    dir: tempfile::TempDir,
    original: Vec<u8>,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace")
            .join("backend-axum/src/lib.rs");
        let original = std::fs::read(&real).expect("the axum adapter");
        let workspace = Self { dir, original };
        std::fs::create_dir_all(workspace.adapter().parent().expect("src")).expect("src");
        std::fs::write(workspace.adapter(), &workspace.original).expect("adapter copied");
        std::fs::create_dir_all(workspace.root().join("target")).expect("target");
        std::fs::create_dir_all(workspace.root().join("docs")).expect("docs");
        let cargo = workspace.cargo();
        std::fs::write(&cargo, FAKE_CARGO).expect("fake cargo");
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755))
            .expect("executable");
        workspace
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn adapter(&self) -> PathBuf {
        self.root().join("backend-axum/src/lib.rs")
    }

    fn cargo(&self) -> PathBuf {
        self.root().join("fake-cargo")
    }

    fn pid_file(&self) -> PathBuf {
        self.root().join("fake-cargo.pid")
    }

    fn log(&self) -> PathBuf {
        self.root().join("fake-cargo.log")
    }

    fn backups(&self) -> PathBuf {
        self.root().join("target/bench-edits")
    }

    fn adapter_is_original(&self) -> bool {
        std::fs::read(self.adapter()).expect("the adapter") == self.original
    }

    fn backups_left(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.backups())
            .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
    }

    /// `bench build-cost --backends axum` on this workspace, the stand-in cargo in `mode`.
    fn bench(&self, mode: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bench"));
        command
            .args(["build-cost", "--backends", "axum"])
            .env("SITEBENCH_WORKSPACE", self.root())
            .env("CARGO", self.cargo())
            .env("FAKE_CARGO_MODE", mode)
            .env("FAKE_CARGO_PID", self.pid_file())
            .env("FAKE_CARGO_LOG", self.log())
            .stdin(Stdio::null());
        command
    }

    /// Started with its output in files: a pipe would stay open in a stand-in cargo that
    /// outlives bench.
    fn spawn(&self, mode: &str, name: &str) -> Running {
        let _ = std::fs::remove_file(self.pid_file());
        let out = File::create(self.root().join(format!("{name}.out"))).expect("stdout file");
        let err_path = self.root().join(format!("{name}.err"));
        let err = File::create(&err_path).expect("stderr file");
        let child = self
            .bench(mode)
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("bench starts");
        Running { child, err_path }
    }

    /// Waits until bench has edited the adapter and the stand-in cargo hangs on the edit;
    /// returns that cargo's pid.
    fn wait_for_the_edit(&self, running: &mut Running) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pid = std::fs::read_to_string(self.pid_file())
                .ok()
                .and_then(|p| p.trim().parse::<u32>().ok());
            if let Some(pid) = pid.filter(|_| !self.adapter_is_original()) {
                return pid;
            }
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!(
                    "bench ended before the edit ({status}): {}",
                    running.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no edit within 30 s: {}",
                running.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A bench started in the background, killed if the test fails before it ends.
struct Running {
    child: Child,
    err_path: PathBuf,
}

impl Running {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err_path).unwrap_or_default()
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("bench's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "bench still runs after {within:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {name} {pid}: {status}");
}

/// Whether `pid` runs (a zombie, dead but not yet reaped, does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
    })
}

fn ends_within(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// What bench runs, each command with whether the adapter was edited: the clean release and
/// debug builds, then per command one untimed run to bring the target directory up to date and
/// three edits, each timed (each undone before the next is made, with no build between).
fn expected_commands() -> Vec<String> {
    let mut out = vec![
        "0 build --release --quiet -p backend-axum".to_owned(),
        "0 build --quiet -p backend-axum".to_owned(),
    ];
    for command in ["check", "build", "build --release"] {
        out.push(format!("0 {command} --quiet -p backend-axum"));
        for _ in 0..3 {
            out.push(format!("1 {command} --quiet -p backend-axum"));
        }
    }
    out
}

fn text(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_adapter_comes_back_byte_for_byte_after_a_failed_build_an_interrupt_or_a_kill() {
    let workspace = Workspace::new();

    // A build after the edit fails: bench fails naming it, the edit's guard undoes it.
    let failed = workspace.bench("fail").output().expect("bench runs");
    let said = text(&failed);
    assert!(!failed.status.success(), "{said}");
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("cargo check -p backend-axum"),
        "{said}"
    );
    assert!(workspace.adapter_is_original(), "{said}");
    assert_eq!(workspace.backups_left(), Vec::<PathBuf>::new(), "{said}");
    assert!(
        !workspace.root().join("docs/build-cost.json").exists(),
        "{said}"
    );

    // Builds that pass: the sequence of commands, every build in one target directory of its
    // own (removed at the end), the figures kept, the adapter as it was.
    let _ = std::fs::remove_file(workspace.log());
    let _ = std::fs::remove_file(workspace.log().with_extension("log.targets"));
    let passed = workspace.bench("ok").output().expect("bench runs");
    let said = text(&passed);
    assert!(passed.status.success(), "{said}");
    assert!(workspace.adapter_is_original(), "{said}");
    assert_eq!(workspace.backups_left(), Vec::<PathBuf>::new(), "{said}");
    let log = std::fs::read_to_string(workspace.log()).expect("the log");
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        expected_commands(),
        "{said}"
    );
    let targets = std::fs::read_to_string(workspace.log().with_extension("log.targets"))
        .expect("the targets");
    let target = targets.lines().next().expect("a target").to_owned();
    assert!(targets.lines().all(|t| t == target), "{targets}");
    assert!(!target.is_empty() && !target.starts_with(&*workspace.root().to_string_lossy()));
    assert!(!Path::new(&target).exists(), "{target} is left");
    let kept: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.root().join("docs/build-cost.json"))
            .expect("docs/build-cost.json"),
    )
    .expect("json");
    let edit_loop = &kept["backends"]["axum"]["edit_loop"];
    for kind in ["check", "debug", "release"] {
        assert_eq!(
            edit_loop[kind].as_array().map(Vec::len),
            Some(3),
            "{kind}: {kept}"
        );
    }
    assert!(edit_loop["clean_debug_seconds"].is_f64(), "{kept}");

    // Ctrl-C while cargo builds the edit: the handler restores the adapter, stops that cargo
    // and ends bench as SIGINT would.
    let mut running = workspace.spawn("hang", "interrupted");
    let cargo = workspace.wait_for_the_edit(&mut running);
    signal(running.child.id(), "-INT");
    let status = running.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{}", running.stderr());
    assert!(workspace.adapter_is_original(), "{}", running.stderr());
    assert_eq!(
        workspace.backups_left(),
        Vec::<PathBuf>::new(),
        "{}",
        running.stderr()
    );
    assert!(
        running.stderr().contains("SIGINT: restored"),
        "{}",
        running.stderr()
    );
    assert!(
        ends_within(cargo, Duration::from_secs(5)),
        "the stand-in cargo {cargo} still runs"
    );

    // SIGKILL: the edit stays, with its backup, until the next run restores it first thing
    // (and then undoes its own edit, whose build fails).
    let mut running = workspace.spawn("hang", "killed");
    let cargo = workspace.wait_for_the_edit(&mut running);
    signal(running.child.id(), "-KILL");
    running.wait(Duration::from_secs(10));
    signal(cargo, "-KILL");
    let edited = std::fs::read_to_string(workspace.adapter()).expect("the adapter");
    assert!(edited.contains("bench build-cost: an edit"), "{edited}");
    assert_eq!(workspace.backups_left().len(), 1);
    let next = workspace.bench("fail").output().expect("bench runs");
    let said = text(&next);
    assert!(!next.status.success(), "{said}");
    assert!(
        String::from_utf8_lossy(&next.stderr).contains("Restored "),
        "{said}"
    );
    assert!(workspace.adapter_is_original(), "{said}");
    assert_eq!(workspace.backups_left(), Vec::<PathBuf>::new(), "{said}");
}
