//! The static pages: turning a request path into a file under the static root safely (one
//! percent-decoding per segment; `..`, dotfiles, separators, NUL, over-long names and symbolic
//! links leaving the root all give 404), its content type, validators (`ETag`, `Last-Modified`),
//! conditional GET (304) and the directory redirect (301). The root is either the files of
//! `core/static/` embedded at build time or a directory on disk read on every request.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, ETAG, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
};
use http::{HeaderMap, StatusCode};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

use crate::errors::SiteError;
use crate::reply::{self, Reply};

/// The longest file name most file systems accept, in bytes.
const NAME_MAX: usize = 255;

struct EmbeddedFile {
    path: &'static str,
    bytes: &'static [u8],
    modified_secs: u64,
}

static EMBEDDED: &[EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/embedded_static.rs"));

/// A file ready to serve, with its validators computed once.
#[derive(Debug, Clone)]
pub struct StaticFile {
    bytes: Bytes,
    content_type: &'static str,
    etag: HeaderValue,
    last_modified: HeaderValue,
    modified_secs: u64,
}

impl StaticFile {
    fn new(name: &str, bytes: Bytes, modified: SystemTime) -> Self {
        let digest = Sha256::digest(&bytes);
        let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let modified_secs = modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let rounded = UNIX_EPOCH + Duration::from_secs(modified_secs);
        Self {
            content_type: content_type(name),
            etag: HeaderValue::from_str(&format!("\"{tag}\""))
                .unwrap_or(HeaderValue::from_static("\"\"")),
            last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(rounded))
                .unwrap_or(HeaderValue::from_static("")),
            modified_secs,
            bytes,
        }
    }

    /// The answer to a GET (or HEAD) of this file, honouring the request's conditionals.
    pub fn respond(&self, request: &HeaderMap) -> Reply {
        let mut response = if self.not_modified(request) {
            reply::empty(StatusCode::NOT_MODIFIED)
        } else {
            reply::with_body(StatusCode::OK, self.content_type, self.bytes.clone())
        };
        let headers = response.headers_mut();
        headers.insert(ETAG, self.etag.clone());
        headers.insert(LAST_MODIFIED, self.last_modified.clone());
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// `If-None-Match` decides when present (weak comparison); else `If-Modified-Since`.
    fn not_modified(&self, request: &HeaderMap) -> bool {
        let mut tags = request.get_all(IF_NONE_MATCH).iter().peekable();
        if let Some(first) = tags.peek() {
            let ours = self.etag.as_bytes();
            // What a browser sends back: our tag, alone and as we wrote it.
            if first.as_bytes() == ours {
                return true;
            }
            return tags
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours);
        }
        request
            .get(IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|since| since.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|since| since.as_secs() >= self.modified_secs)
    }
}

/// `Content-Type` by extension (SITE.md section 3).
pub fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("html") => reply::TEXT_HTML,
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => reply::APPLICATION_JSON,
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => reply::TEXT_PLAIN,
        _ => "application/octet-stream",
    }
}

/// A request path split into safe, decoded segments, or `None` for a path that is a 404 on
/// its face. `directory` is true when the path ends in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafePath {
    pub segments: Vec<String>,
    pub directory: bool,
}

impl SafePath {
    pub fn parse(raw_path: &str) -> Option<Self> {
        let rest = raw_path.strip_prefix('/')?;
        if rest.is_empty() {
            return Some(Self {
                segments: Vec::new(),
                directory: true,
            });
        }
        let (rest, directory) = match rest.strip_suffix('/') {
            Some(inner) => (inner, true),
            None => (rest, false),
        };
        let segments = rest
            .split('/')
            .map(safe_segment)
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            segments,
            directory,
        })
    }
}

/// One decoded segment, or `None` when it could name something outside its directory or hidden.
fn safe_segment(raw: &str) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    let forbidden = decoded.starts_with('.')
        || decoded.len() > NAME_MAX
        || decoded.contains(['/', '\\', ':', '\0']);
    (!forbidden).then(|| decoded.into_owned())
}

/// What a resolved path turned out to be.
enum Found {
    File(Arc<StaticFile>),
    Directory,
}

/// Where static files come from.
pub enum StaticRoot {
    Embedded {
        files: HashMap<&'static str, Arc<StaticFile>>,
        directories: HashSet<String>,
    },
    Disk(PathBuf),
}

impl StaticRoot {
    /// The files of `core/static/`, built into the binary.
    pub fn embedded() -> Self {
        let mut files = HashMap::new();
        let mut directories = HashSet::new();
        for file in EMBEDDED {
            let modified = UNIX_EPOCH + Duration::from_secs(file.modified_secs);
            let served = StaticFile::new(file.path, Bytes::from_static(file.bytes), modified);
            files.insert(file.path, Arc::new(served));
            let mut parent = file.path;
            while let Some((dir, _)) = parent.rsplit_once('/') {
                directories.insert(dir.to_owned());
                parent = dir;
            }
        }
        Self::Embedded { files, directories }
    }

    /// A directory on disk; `Err` names the problem when it is not a readable directory.
    pub fn disk(dir: &Path) -> Result<Self, String> {
        let canonical = std::fs::canonicalize(dir)
            .map_err(|e| format!("--static-dir {}: {e}", dir.display()))?;
        if !canonical.is_dir() {
            return Err(format!("--static-dir {}: not a directory", dir.display()));
        }
        Ok(Self::Disk(canonical))
    }

    /// GET/HEAD of a static path: the file, a 304, a 301 to the directory, or a 404.
    pub async fn serve(&self, raw_path: &str, query: Option<&str>, request: &HeaderMap) -> Reply {
        let Some(path) = SafePath::parse(raw_path) else {
            return SiteError::NotFound.render(request);
        };
        match self.find(&path).await {
            Some(Found::File(file)) => file.respond(request),
            Some(Found::Directory) => {
                let location = match query {
                    Some(q) => format!("{raw_path}/?{q}"),
                    None => format!("{raw_path}/"),
                };
                let mut response = reply::empty(StatusCode::MOVED_PERMANENTLY);
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(LOCATION, value);
                }
                response
            }
            None => SiteError::NotFound.render(request),
        }
    }

    async fn find(&self, path: &SafePath) -> Option<Found> {
        match self {
            Self::Embedded { files, directories } => {
                let joined = path.segments.join("/");
                if path.directory {
                    let index = if joined.is_empty() {
                        Cow::Borrowed("index.html")
                    } else {
                        Cow::Owned(format!("{joined}/index.html"))
                    };
                    return files.get(index.as_ref()).cloned().map(Found::File);
                }
                if let Some(file) = files.get(joined.as_str()) {
                    Some(Found::File(Arc::clone(file)))
                } else {
                    directories.contains(&joined).then_some(Found::Directory)
                }
            }
            Self::Disk(root) => {
                let root = root.clone();
                let path = path.clone();
                tokio::task::spawn_blocking(move || find_on_disk(&root, &path))
                    .await
                    .ok()
                    .flatten()
            }
        }
    }
}

/// Resolves symbolic links and refuses anything whose real path leaves the root.
fn find_on_disk(root: &Path, path: &SafePath) -> Option<Found> {
    let mut candidate = root.to_path_buf();
    candidate.extend(&path.segments);
    let real = inside(root, &candidate)?;
    let metadata = std::fs::metadata(&real).ok()?;
    if metadata.is_dir() {
        if !path.directory {
            return Some(Found::Directory);
        }
        let index = inside(root, &real.join("index.html"))?;
        return read_file(&index);
    }
    if path.directory || !metadata.is_file() {
        return None;
    }
    read_file(&real)
}

fn inside(root: &Path, candidate: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(candidate)
        .ok()
        .filter(|real| real.starts_with(root))
}

fn read_file(path: &Path) -> Option<Found> {
    let metadata = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    let bytes = std::fs::read(path).ok()?;
    let name = path.file_name()?.to_string_lossy();
    let modified = metadata.modified().unwrap_or(UNIX_EPOCH);
    Some(Found::File(Arc::new(StaticFile::new(
        &name,
        Bytes::from(bytes),
        modified,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn status(reply: &Reply) -> u16 {
        reply.status().as_u16()
    }

    #[test]
    fn unsafe_segments_are_refused() {
        for path in [
            "/..",
            "/../etc/passwd",
            "/%2e%2e/x",
            "/a/%2E%2E",
            "/.",
            "/.env",
            "/a/.git/config",
            "/a%2fb",
            "/a%5cb",
            "/a\\b",
            "/a:b",
            "/a%3Ab",
            "/a%00b",
            "/a//b",
            "//a",
            "/%ff",
            "relative",
        ] {
            assert_eq!(SafePath::parse(path), None, "{path}");
        }
        let long = format!("/{}", "a".repeat(256));
        assert_eq!(SafePath::parse(&long), None);
        assert_eq!(
            SafePath::parse("/guide/a%20b.txt"),
            Some(SafePath {
                segments: vec!["guide".into(), "a b.txt".into()],
                directory: false
            })
        );
        assert_eq!(
            SafePath::parse("/"),
            Some(SafePath {
                segments: vec![],
                directory: true
            })
        );
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("a.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("a.tar.gz"), "application/octet-stream");
        assert_eq!(content_type("Makefile"), "application/octet-stream");
    }

    #[tokio::test]
    async fn embedded_root_serves_index_redirects_and_404s() {
        let root = StaticRoot::embedded();
        let none = HeaderMap::new();
        let home = root.serve("/", None, &none).await;
        assert_eq!(status(&home), 200);
        assert!(home.body().starts_with(b"<!"), "index.html is served for /");
        let redirect = root.serve("/guide", Some("x=1"), &none).await;
        assert_eq!(status(&redirect), 301);
        assert_eq!(redirect.headers()[LOCATION], "/guide/?x=1");
        assert_eq!(status(&root.serve("/guide/", None, &none).await), 200);
        assert_eq!(status(&root.serve("/index.html/", None, &none).await), 404);
        assert_eq!(status(&root.serve("/missing", None, &none).await), 404);
    }

    #[tokio::test]
    async fn conditional_requests() {
        let root = StaticRoot::embedded();
        let first = root.serve("/style.css", None, &HeaderMap::new()).await;
        let etag = first.headers()[ETAG].clone();
        let modified = first.headers()[LAST_MODIFIED].clone();
        let ask = |name, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_str(value).expect("ascii"));
            h
        };
        let tag = etag.to_str().expect("ascii");
        for matching in [
            tag.to_owned(),
            format!("W/{tag}"),
            format!("\"x\", {tag}"),
            "*".into(),
        ] {
            let r = root
                .serve("/style.css", None, &ask(IF_NONE_MATCH, &matching))
                .await;
            assert_eq!(status(&r), 304, "{matching}");
            assert!(r.body().is_empty() && r.headers().get(http::header::CONTENT_LENGTH).is_none());
        }
        let mut both = ask(IF_NONE_MATCH, "\"other\"");
        both.insert(IF_MODIFIED_SINCE, modified.clone());
        assert_eq!(status(&root.serve("/style.css", None, &both).await), 200);
        let r = root
            .serve(
                "/style.css",
                None,
                &ask(IF_MODIFIED_SINCE, modified.to_str().expect("ascii")),
            )
            .await;
        assert_eq!(status(&r), 304);
        let r = root
            .serve(
                "/style.css",
                None,
                &ask(IF_MODIFIED_SINCE, "Thu, 01 Jan 1970 00:00:00 GMT"),
            )
            .await;
        assert_eq!(status(&r), 200);
        let r = root
            .serve("/style.css", None, &ask(IF_MODIFIED_SINCE, "yesterday"))
            .await;
        assert_eq!(status(&r), 200);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn disk_root_refuses_symlinks_out_and_sees_changes() {
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret.txt"), "secret").expect("write");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), "one").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            dir.path().join("out.txt"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("outdir")).expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("a.txt"), dir.path().join("in.txt"))
            .expect("symlink");
        let root = StaticRoot::disk(dir.path()).expect("root");
        let none = HeaderMap::new();
        assert_eq!(status(&root.serve("/out.txt", None, &none).await), 404);
        assert_eq!(
            status(&root.serve("/outdir/secret.txt", None, &none).await),
            404
        );
        assert_eq!(status(&root.serve("/in.txt", None, &none).await), 200);
        assert_eq!(status(&root.serve("/sub", None, &none).await), 301);
        assert_eq!(status(&root.serve("/sub/", None, &none).await), 404);
        std::fs::write(dir.path().join("a.txt"), "two!").expect("rewrite");
        let reply = root.serve("/a.txt", None, &none).await;
        assert_eq!(reply.body().as_ref(), b"two!");
        assert_eq!(
            reply.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }

    proptest! {
        /// Whatever the request path, a resolved candidate never climbs out of the root.
        #[test]
        fn no_decoded_path_leaves_the_root(raw in "(/([a-z.%/\\\\:0-9A-F]|%2[eEfF]|%5[cC]|%00|\\.\\.){0,6}){1,5}") {
            if let Some(path) = SafePath::parse(&raw) {
                let root = Path::new("/srv/root");
                let mut joined = root.to_path_buf();
                joined.extend(&path.segments);
                let mut depth = 0i32;
                for component in joined.strip_prefix(root).expect("joined under root").components() {
                    match component {
                        std::path::Component::Normal(_) => depth += 1,
                        _ => depth -= 100,
                    }
                }
                prop_assert!(depth >= 0, "{raw} -> {joined:?}");
                prop_assert!(path.segments.iter().all(|s| !s.starts_with('.') && !s.contains('/')));
            }
        }
    }
}
