//! The in-process target a backend's `tests/conformance.rs` uses, and the `--static-dir`
//! fixture directory the static-file checks expect.

use std::io;
use std::path::{Path, PathBuf};

use site_core::cli::Config;
use site_core::server::{self, Backend};
use site_core::site::Site;

use super::{StaticDirTarget, Target};

/// The admin the in-process main server is started with.
pub const IN_PROCESS_ADMIN: &str = "conformance-admin";
/// The path that panics inside a handler on the in-process main server.
pub const IN_PROCESS_PANIC_PATH: &str = "/__sitebench/panic";

/// The modification time given to `mtime.txt`: 2001-09-09T01:46:40Z.
pub(crate) const FIXTURE_MTIME: u64 = 1_000_000_000;
/// What `escape.txt` and `escapedir/x.txt` (outside the root) contain.
pub(crate) const OUTSIDE_MARKER: &str = "OUTSIDE-THE-STATIC-ROOT";

/// The files of the fixture: path relative to the root, bytes.
pub(crate) const FIXTURE_FILES: &[(&str, &[u8])] = &[
    (
        "index.html",
        b"<!doctype html>\n<title>fixture home</title>\n<p>fixture index</p>\n",
    ),
    (
        "sub/index.html",
        b"<!doctype html>\n<title>fixture sub</title>\n<p>fixture sub index</p>\n",
    ),
    ("sub/page.txt", b"sub page\n"),
    ("a.css", b"body { color: black; }\n"),
    ("b.js", b"console.log('fixture');\n"),
    ("c.json", b"{\"fixture\":true}\n"),
    (
        "d.svg",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>\n",
    ),
    (
        "e.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
    ),
    ("f.txt", b"fixture text file\n"),
    ("g.bin", b"\x00\x01\x02\x03binary\xff"),
    ("noext", b"no extension\n"),
    ("mtime.txt", b"a file with a known modification time\n"),
    ("twin-a.txt", b"identical content\n"),
    ("twin-b.txt", b"identical content\n"),
    ("other.txt", b"different content\n"),
    ("with space.txt", b"a name with a space\n"),
    ("100%.txt", b"a name with a percent sign\n"),
    ("a%41.txt", b"a name that looks percent-encoded\n"),
    ("caf\u{e9}.txt", b"a non-ASCII name\n"),
    (".secret", b"a dotfile\n"),
    (".hidden/file.txt", b"inside a dot directory\n"),
];

/// Writes the fixture into `root` (created if missing) and the symbolic links' targets into
/// `outside` (which must not be inside `root`).
pub fn write_static_fixture(root: &Path, outside: &Path) -> io::Result<()> {
    std::fs::create_dir_all(root)?;
    std::fs::create_dir_all(outside.join("dir"))?;
    for (relative, bytes) in FIXTURE_FILES {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    let mtime = std::fs::File::options()
        .write(true)
        .open(root.join("mtime.txt"))?;
    mtime.set_modified(super::expect::from_unix(FIXTURE_MTIME))?;
    std::fs::write(outside.join("secret.txt"), OUTSIDE_MARKER)?;
    std::fs::write(outside.join("dir").join("x.txt"), OUTSIDE_MARKER)?;
    symlink(&outside.join("secret.txt"), &root.join("escape.txt"))?;
    symlink(&outside.join("dir"), &root.join("escapedir"))?;
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    match std::fs::remove_file(link) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Ok(())
}

impl Target {
    /// An outside server with only a base URL: every check that needs more is skipped.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            backend: None,
            deviations: Vec::new(),
            admin: None,
            panic_path: None,
            static_dir: None,
            binary: None,
            in_process: false,
        }
    }

    /// Starts two in-process servers of `backend` (they live as long as the test binary):
    /// the main one (embedded static root, admin `conformance-admin`, panic path
    /// `/__sitebench/panic`, a temporary database) and one serving the static fixture from
    /// disk. `binary` is the backend's executable for the process checks. Every check can run
    /// against it, so a skip is a failure.
    pub fn in_process(backend: &'static Backend, binary: &str) -> Self {
        let temp = tempfile::Builder::new()
            .prefix("sitebench-conformance-")
            .tempdir()
            .expect("conformance: cannot create a temporary directory");
        let temp: &'static tempfile::TempDir = Box::leak(Box::new(temp));

        let mut config = Config::for_tests(temp.path().join("main.db"));
        config.admin = vec![IN_PROCESS_ADMIN.into()];
        config.panic_path = Some(IN_PROCESS_PANIC_PATH.into());
        let main = start(backend, config);

        let root = temp.path().join("static-root");
        write_static_fixture(&root, &temp.path().join("outside"))
            .expect("conformance: cannot write the static fixture");
        let mut config = Config::for_tests(temp.path().join("static.db"));
        config.static_dir = Some(root.clone());
        let static_dir = start(backend, config);

        Self {
            base_url: main,
            backend: Some(backend.name.to_owned()),
            deviations: backend.deviations.to_vec(),
            admin: Some(IN_PROCESS_ADMIN.into()),
            panic_path: Some(IN_PROCESS_PANIC_PATH.into()),
            static_dir: Some(StaticDirTarget {
                base_url: static_dir,
                dir: root,
            }),
            binary: Some(PathBuf::from(binary)),
            in_process: true,
        }
    }
}

/// A server of `backend` on a fresh database of its own, with `admins` and a path that
/// panics: its base URL. It runs until the process ends (the browser suite's, which must not
/// share throttles or users with the conformance suite).
pub(crate) fn start_fresh(
    backend: &Backend,
    admins: &[&str],
    panic_path: &str,
) -> Result<String, String> {
    let temp = tempfile::Builder::new()
        .prefix("sitebench-browser-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut config = Config::for_tests(temp.path().join("site.db"));
    config.admin = admins.iter().map(|name| (*name).to_owned()).collect();
    config.panic_path = Some(panic_path.to_owned());
    let site = Site::open(config, backend.name)?;
    let spawned =
        server::spawn(backend.serve, site).map_err(|e| format!("cannot start the server: {e}"))?;
    let base_url = spawned.base_url();
    // Both live as long as the process: the server serves every flow.
    Box::leak(Box::new((spawned, temp)));
    Ok(base_url)
}

fn start(backend: &Backend, config: Config) -> String {
    let site = Site::open(config, backend.name)
        .unwrap_or_else(|e| panic!("conformance: cannot open the site: {e}"));
    let spawned = server::spawn(backend.serve, site)
        .unwrap_or_else(|e| panic!("conformance: cannot start the server: {e}"));
    let base_url = spawned.base_url();
    Box::leak(Box::new(spawned));
    base_url
}
