//! SITE.md section 3: static pages. The embedded root is checked on the main server; the
//! `--static-dir` server serves the fixture written by `write_static_fixture`.

use std::path::Path;

use http::Method;

use super::support::{expect_405, random_text, still_serving, still_serving_at};
use crate::client::{Ctx, Endpoint, RawConn, Resp, get_request};
use crate::expect::{HTML, fmt_date, from_unix, imf_fixdate, unix, unix_now};
use crate::fail::{CheckResult, Failure};
use crate::fixture::{FIXTURE_FILES, FIXTURE_MTIME, OUTSIDE_MARKER};

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "3";

/// The bytes of a fixture file.
fn fixture(name: &str) -> CheckResult<&'static [u8]> {
    FIXTURE_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
        .ok_or_else(|| Failure::fail(format!("no fixture file {name}")))
}

/// Checks that the static-dir target holds the fixture (it was written by `write_static_fixture`).
fn fixture_present(dir: &Path) -> CheckResult {
    ensure!(
        dir.join("f.txt").is_file() && dir.join("sub").join("index.html").is_file(),
        "the --static-dir directory {} does not hold the conformance fixture (write it with write_static_fixture)",
        dir.display()
    );
    Ok(())
}

async fn static_dir(cx: &Ctx) -> CheckResult<(Endpoint, std::path::PathBuf)> {
    let (ep, dir) = cx.static_dir()?;
    fixture_present(dir)?;
    Ok((ep.clone(), dir.to_path_buf()))
}

/// A static `200` with its validators: `(ETag, Last-Modified)`.
fn validators(resp: &Resp) -> CheckResult<(String, String)> {
    resp.status(200)?;
    let etag = resp.must_header("etag")?.to_owned();
    let last_modified = resp.must_header("last-modified")?.to_owned();
    Ok((etag, last_modified))
}

pub(crate) async fn home_page_is_html(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/").await?;
    resp.status(200)?.content_type(HTML)?;
    let text = resp.text()?.to_ascii_lowercase();
    ensure!(
        text.contains("<html") || text.contains("<!doctype html"),
        "{}: not an HTML document",
        resp.what
    );
    Ok(())
}

pub(crate) async fn index_html_same_as_home(cx: &Ctx) -> CheckResult {
    let home = cx.get("/").await?;
    let index = cx.get("/index.html").await?;
    index.status(200)?.content_type(HTML)?;
    ensure!(
        home.body == index.body,
        "GET / and GET /index.html must serve the same file"
    );
    ensure_eq!(
        index.header("etag"),
        home.header("etag"),
        "ETag of /index.html vs /"
    );
    Ok(())
}

pub(crate) async fn root_files_exist(cx: &Ctx) -> CheckResult {
    let cases = [
        ("/index.html", HTML),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/guide/index.html", HTML),
        ("/guide/", HTML),
        ("/status-codes/", HTML),
    ];
    for (path, content_type) in cases {
        let resp = cx.get(path).await?;
        resp.status(200)?.content_type(content_type)?;
        ensure!(!resp.body.is_empty(), "{}: empty file", resp.what);
    }
    Ok(())
}

/// `href` values of a page, made absolute against `/`.
fn hrefs(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("href=") {
        let start = from + at + 5;
        out.push(absolute(&attr_value(&html[start..])));
        from = start;
    }
    out
}

fn absolute(value: &str) -> String {
    let value = value.trim();
    let value = value.strip_prefix("./").unwrap_or(value);
    if value.starts_with('/') || value.contains("://") {
        value.to_owned()
    } else {
        format!("/{value}")
    }
}

/// The value at the start of `text` (just after `name=`): quoted or bare.
fn attr_value(text: &str) -> String {
    match text.chars().next() {
        Some(q @ ('"' | '\'')) => text[1..].split(q).next().unwrap_or("").to_owned(),
        _ => text
            .split(|c: char| c.is_whitespace() || c == '>')
            .next()
            .unwrap_or("")
            .to_owned(),
    }
}

fn tag_attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let needle = format!("{name}=");
    let mut from = 0;
    while let Some(at) = lower[from..].find(&needle) {
        let start = from + at;
        let before = lower[..start].chars().last();
        if before.is_some_and(|c| c.is_whitespace()) {
            return Some(attr_value(&tag[start + needle.len()..]));
        }
        from = start + needle.len();
    }
    None
}

pub(crate) async fn home_links_every_demo(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/").await?;
    let links = hrefs(resp.text()?);
    let exact = [
        "/hello",
        "/plaintext",
        "/json",
        "/healthz",
        "/teapot",
        "/openapi.json",
        "/me",
        "/admin",
        "/guide/",
    ];
    for want in exact {
        ensure!(
            links.iter().any(|l| l == want
                || l.starts_with(&format!("{want}?"))
                || l.starts_with(&format!("{want}#"))),
            "the home page must link to {want}; its links are {links:?}"
        );
    }
    ensure!(
        links.iter().any(|l| l.starts_with("/status/")),
        "the home page must link to a /status/{{code}} demo; its links are {links:?}"
    );
    Ok(())
}

pub(crate) async fn home_has_forms(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/").await?;
    let html = resp.text()?;
    let lower = html.to_ascii_lowercase();
    let mut forms = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<form") {
        let start = from + at;
        let end = lower[start..]
            .find("</form>")
            .map_or(lower.len(), |e| start + e);
        let tag_end = lower[start..].find('>').map_or(end, |e| start + e);
        let tag = &html[start..tag_end];
        let action = tag_attr(tag, "action")
            .map(|a| absolute(&a))
            .unwrap_or_default();
        let method = tag_attr(tag, "method")
            .unwrap_or_else(|| "get".into())
            .to_ascii_lowercase();
        forms.push((action, method, lower[start..end].to_owned()));
        from = end.max(start + 5);
    }
    let find = |action: &str, method: &str, inputs: &[&str]| -> CheckResult {
        let ok = forms.iter().any(|(a, m, body)| {
            a == action
                && m == method
                && inputs.iter().all(|i| {
                    body.contains(&format!("name=\"{i}\""))
                        || body.contains(&format!("name='{i}'"))
                        || body.contains(&format!("name={i}"))
                })
        });
        ensure!(
            ok,
            "the home page needs a <form action=\"{action}\" method=\"{method}\"> with inputs {inputs:?}; forms found: {:?}",
            forms
                .iter()
                .map(|(a, m, _)| format!("{m} {a}"))
                .collect::<Vec<_>>()
        );
        Ok(())
    };
    find("/users", "post", &["username", "password"])?;
    find("/login", "post", &["username", "password"])?;
    find("/hello", "get", &["name"])?;
    Ok(())
}

pub(crate) async fn guide_explains_get_and_post(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/guide/").await?;
    resp.status(200)?.content_type(HTML)?;
    resp.body_contains("GET")?.body_contains("POST")?;
    Ok(())
}

pub(crate) async fn static_dir_serves_disk_files(cx: &Ctx) -> CheckResult {
    let (ep, _) = static_dir(cx).await?;
    for name in ["f.txt", "sub/page.txt", "g.bin", "e.png"] {
        cx.get_at(&ep, &format!("/{name}"))
            .await?
            .status(200)?
            .body_is(fixture(name)?)?;
    }
    cx.get_at(&ep, "/")
        .await?
        .status(200)?
        .body_is(fixture("index.html")?)?;
    // The embedded files are not served when a directory is given.
    cx.get_at(&ep, "/app.js")
        .await?
        .problem(404, Some("Not Found"))?;
    Ok(())
}

/// A scratch file in the static dir, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write_file(path: &Path, bytes: &[u8], mtime: Option<u64>) -> CheckResult {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::fail(format!("cannot write {}: {e}", path.display())))?;
    if let Some(secs) = mtime {
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .map_err(|e| Failure::fail(format!("cannot open {}: {e}", path.display())))?;
        file.set_modified(from_unix(secs)).map_err(|e| {
            Failure::fail(format!("cannot set the mtime of {}: {e}", path.display()))
        })?;
    }
    Ok(())
}

pub(crate) async fn static_dir_sees_changes_without_restart(cx: &Ctx) -> CheckResult {
    let (ep, dir) = static_dir(cx).await?;
    let name = format!("live-{}.txt", random_text(8));
    let scratch = Scratch(dir.join(&name));
    write_file(&scratch.0, b"first version\n", Some(1_100_000_000))?;
    let first = cx.get_at(&ep, &format!("/{name}")).await?;
    first.status(200)?.body_is(b"first version\n")?;
    write_file(
        &scratch.0,
        b"the second, longer version\n",
        Some(1_100_000_100),
    )?;
    let second = cx.get_at(&ep, &format!("/{name}")).await?;
    second
        .status(200)?
        .body_is(b"the second, longer version\n")?;
    ensure!(
        first.header("etag") != second.header("etag"),
        "the ETag must change with the content"
    );
    second.header_is("last-modified", &fmt_date(from_unix(1_100_000_100)))?;
    Ok(())
}

pub(crate) async fn static_dir_sees_new_and_deleted_files(cx: &Ctx) -> CheckResult {
    let (ep, dir) = static_dir(cx).await?;
    let name = format!("new-{}.txt", random_text(8));
    let path = format!("/{name}");
    cx.get_at(&ep, &path)
        .await?
        .problem(404, Some("Not Found"))?;
    let scratch = Scratch(dir.join(&name));
    write_file(&scratch.0, b"created while running\n", None)?;
    cx.get_at(&ep, &path)
        .await?
        .status(200)?
        .body_is(b"created while running\n")?;
    drop(scratch);
    cx.get_at(&ep, &path)
        .await?
        .problem(404, Some("Not Found"))?;
    Ok(())
}

pub(crate) async fn segments_percent_decoded_once(cx: &Ctx) -> CheckResult {
    let (ep, _) = static_dir(cx).await?;
    let found = [
        ("/with%20space.txt", "with space.txt"),
        ("/100%25.txt", "100%.txt"),
        ("/a%2541.txt", "a%41.txt"),
        ("/caf%C3%A9.txt", "caf\u{e9}.txt"),
        ("/%66.txt", "f.txt"),
        ("/s%75b/page.txt", "sub/page.txt"),
    ];
    for (target, name) in found {
        cx.raw_get(&ep, target)
            .await?
            .status(200)?
            .body_is(fixture(name)?)?;
    }
    for target in ["/a%41.txt", "/100%2525.txt", "/with%2520space.txt"] {
        cx.raw_get(&ep, target)
            .await?
            .problem(404, Some("Not Found"))?;
    }
    Ok(())
}

/// Every target must give a 404 problem (raw requests, no normalisation).
async fn all_404(cx: &Ctx, ep: &Endpoint, targets: &[String]) -> CheckResult {
    for target in targets {
        let resp = cx.raw_get(ep, target).await?;
        resp.problem(404, Some("Not Found"))?;
        ensure!(
            !String::from_utf8_lossy(&resp.body).contains(OUTSIDE_MARKER),
            "{}: served a file from outside the root",
            resp.what
        );
    }
    Ok(())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) async fn dot_segments_404(cx: &Ctx) -> CheckResult {
    let targets = strings(&[
        "/.",
        "/./index.html",
        "/guide/./index.html",
        "/guide/../index.html",
        "/..",
        "/../index.html",
        "/%2e/index.html",
        "/%2E%2E/index.html",
        "/guide/%2e%2e/index.html",
        "/guide/.%2e/index.html",
        "/guide/%2e",
    ]);
    all_404(cx, &cx.main, &targets).await?;
    if let Ok((ep, _)) = static_dir(cx).await {
        all_404(
            cx,
            &ep,
            &strings(&["/sub/../f.txt", "/sub/%2e%2e/f.txt", "/./f.txt"]),
        )
        .await?;
    }
    still_serving(cx).await
}

pub(crate) async fn dotfiles_404(cx: &Ctx) -> CheckResult {
    all_404(
        cx,
        &cx.main,
        &strings(&[
            "/.env",
            "/.gitignore",
            "/.well-known/x",
            "/guide/.index.html",
        ]),
    )
    .await?;
    let (ep, _) = static_dir(cx).await?;
    let targets = strings(&[
        "/.secret",
        "/%2esecret",
        "/%2Esecret",
        "/.hidden/file.txt",
        "/.hidden/",
        "/.hidden",
        "/sub/.secret",
    ]);
    for target in &targets {
        let resp = cx.raw_get(&ep, target).await?;
        resp.problem(404, Some("Not Found"))?;
        let body = String::from_utf8_lossy(&resp.body);
        ensure!(
            !body.contains("a dotfile\n") && !body.contains("inside a dot directory"),
            "{}: a dotfile's content was served",
            resp.what
        );
    }
    Ok(())
}

pub(crate) async fn encoded_separators_404(cx: &Ctx) -> CheckResult {
    let targets = strings(&[
        "/guide%2findex.html",
        "/guide%2Findex.html",
        "/..%2fetc/passwd",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/%2e%2e%5c..",
        "/guide%5cindex.html",
        "/%2fetc%2fpasswd",
    ]);
    all_404(cx, &cx.main, &targets).await?;
    // A raw backslash: 404, or 400 if the request line itself is refused.
    let resp = cx
        .raw(
            &cx.main,
            get_request(&cx.main, "GET", "/guide\\index.html", &[]).as_bytes(),
        )
        .await?;
    if let crate::client::Reply::Response(resp) = resp {
        resp.status_in(&[400, 404])?;
    }
    if let Ok((ep, _)) = static_dir(cx).await {
        all_404(
            cx,
            &ep,
            &strings(&["/sub%2fpage.txt", "/sub%5cpage.txt", "/escapedir%2fx.txt"]),
        )
        .await?;
    }
    still_serving(cx).await
}

pub(crate) async fn colon_and_nul_404(cx: &Ctx) -> CheckResult {
    let targets = strings(&[
        "/a:b",
        "/index.html%3a",
        "/index.html%3A",
        "/C%3A%5Cwindows",
        "/c:/windows",
        "/index.html%00",
        "/%00",
        "/index.html%00.txt",
        "/guide/%00",
    ]);
    all_404(cx, &cx.main, &targets).await?;
    if let Ok((ep, _)) = static_dir(cx).await {
        all_404(
            cx,
            &ep,
            &strings(&["/f.txt%00", "/f.txt%3A%3A$DATA", "/f.txt:", "/sub:page.txt"]),
        )
        .await?;
    }
    still_serving(cx).await
}

pub(crate) async fn overlong_name_404(cx: &Ctx) -> CheckResult {
    let mut targets = Vec::new();
    for n in [256, 300, 1000, 5000] {
        targets.push(format!("/{}", "a".repeat(n)));
        targets.push(format!("/guide/{}.html", "b".repeat(n)));
    }
    targets.push(format!("/{}", "%61".repeat(300)));
    targets.push(format!(
        "/{}",
        "\u{e9}"
            .repeat(200)
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    ));
    all_404(cx, &cx.main, &targets).await?;
    if let Ok((ep, _)) = static_dir(cx).await {
        all_404(
            cx,
            &ep,
            &[
                format!("/{}", "c".repeat(300)),
                format!("/sub/{}", "d".repeat(1000)),
            ],
        )
        .await?;
    }
    still_serving(cx).await
}

pub(crate) async fn trailing_slash_on_file_404(cx: &Ctx) -> CheckResult {
    all_404(
        cx,
        &cx.main,
        &strings(&[
            "/index.html/",
            "/style.css/",
            "/guide/index.html/",
            "/favicon.svg/",
        ]),
    )
    .await?;
    if let Ok((ep, _)) = static_dir(cx).await {
        all_404(cx, &ep, &strings(&["/f.txt/", "/sub/page.txt/", "/noext/"])).await?;
    }
    Ok(())
}

pub(crate) async fn directory_index_served(cx: &Ctx) -> CheckResult {
    let dir = cx.get("/guide/").await?;
    let index = cx.get("/guide/index.html").await?;
    dir.status(200)?.content_type(HTML)?;
    ensure!(
        dir.body == index.body,
        "/guide/ must serve /guide/index.html"
    );
    let (ep, _) = static_dir(cx).await?;
    cx.get_at(&ep, "/")
        .await?
        .status(200)?
        .content_type(HTML)?
        .body_is(fixture("index.html")?)?;
    cx.get_at(&ep, "/sub/")
        .await?
        .status(200)?
        .content_type(HTML)?
        .body_is(fixture("sub/index.html")?)?;
    Ok(())
}

pub(crate) async fn directory_without_slash_redirects(cx: &Ctx) -> CheckResult {
    cx.get("/guide")
        .await?
        .status(301)?
        .header_is("location", "/guide/")?;
    let (ep, _) = static_dir(cx).await?;
    cx.get_at(&ep, "/sub")
        .await?
        .status(301)?
        .header_is("location", "/sub/")?;
    Ok(())
}

pub(crate) async fn directory_redirect_keeps_query(cx: &Ctx) -> CheckResult {
    cx.get("/guide?x=1")
        .await?
        .status(301)?
        .header_is("location", "/guide/?x=1")?;
    cx.get("/guide?x=1&y=two%20words")
        .await?
        .status(301)?
        .header_is("location", "/guide/?x=1&y=two%20words")?;
    if let Ok((ep, _)) = static_dir(cx).await {
        cx.get_at(&ep, "/sub?a=b")
            .await?
            .status(301)?
            .header_is("location", "/sub/?a=b")?;
    }
    Ok(())
}

pub(crate) async fn missing_file_404(cx: &Ctx) -> CheckResult {
    for path in [
        "/nothing-here",
        "/nothing.html",
        "/guide/nothing",
        "/nothing/",
        "/nothing/deeper/",
        "/index.htm",
    ] {
        cx.get(path).await?.problem(404, Some("Not Found"))?;
    }
    if let Ok((ep, _)) = static_dir(cx).await {
        cx.get_at(&ep, "/sub/nothing.txt")
            .await?
            .problem(404, Some("Not Found"))?;
    }
    Ok(())
}

pub(crate) async fn symlink_out_of_root_404(cx: &Ctx) -> CheckResult {
    let (ep, dir) = static_dir(cx).await?;
    ensure!(
        std::fs::symlink_metadata(dir.join("escape.txt")).is_ok_and(|m| m.file_type().is_symlink()),
        "the fixture lacks the escape.txt symbolic link"
    );
    all_404(
        cx,
        &ep,
        &strings(&[
            "/escape.txt",
            "/escapedir/x.txt",
            "/escapedir/",
            "/escapedir",
        ]),
    )
    .await
}

/// Odd paths: never a 5xx, always a 4xx (or a refused request line).
pub(crate) async fn odd_paths_never_500(cx: &Ctx) -> CheckResult {
    let mut targets = strings(&[
        "/%",
        "/%zz",
        "/%2",
        "/%ff",
        "/%c3",
        "/%ff%fe/",
        "/%C0%AE%C0%AE/",
        "/%e2%80%ae.txt",
        "/~",
        "/;",
        "/%3F",
        "/%23",
        "/*",
        "/guide/index.html/..",
        "/%20",
        "/+",
        "/%7f",
        "/guide/%2e%2e%2f%2e%2e%2f",
        "/%u002e%u002e/",
        "/CON",
        "/nul",
        "/index.html::$DATA",
    ]);
    targets.push(format!("/{}", "../".repeat(50)));
    targets.push(format!("/{}", "%2e%2e/".repeat(50)));
    targets.push(format!("/{}", "x/".repeat(2000)));
    for ep in [
        Some(cx.main.clone()),
        static_dir(cx).await.ok().map(|(ep, _)| ep),
    ]
    .into_iter()
    .flatten()
    {
        for target in &targets {
            let reply = cx
                .raw(&ep, get_request(&ep, "GET", target, &[]).as_bytes())
                .await?;
            if let crate::client::Reply::Response(resp) = reply {
                ensure!(
                    (400..500).contains(&resp.status),
                    "GET {target}: expected a 4xx (404 for a path that cannot be served), got {}",
                    resp.excerpt()
                );
                if resp.status != 400 {
                    cx.conventions(&resp)?;
                }
            }
        }
        still_serving_at(cx, &ep).await?;
    }
    Ok(())
}

pub(crate) async fn content_types_by_extension(cx: &Ctx) -> CheckResult {
    let (ep, _) = static_dir(cx).await?;
    let cases = [
        ("index.html", HTML),
        ("a.css", "text/css; charset=utf-8"),
        ("b.js", "text/javascript; charset=utf-8"),
        ("c.json", "application/json"),
        ("d.svg", "image/svg+xml"),
        ("e.png", "image/png"),
        ("f.txt", "text/plain; charset=utf-8"),
        ("g.bin", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ];
    for (name, content_type) in cases {
        let resp = cx.get_at(&ep, &format!("/{name}")).await?;
        resp.status(200)?
            .content_type(content_type)?
            .body_is(fixture(name)?)?;
    }
    Ok(())
}

pub(crate) async fn last_modified_is_imf_fixdate(cx: &Ctx) -> CheckResult {
    for path in ["/", "/style.css", "/guide/", "/favicon.svg"] {
        let resp = cx.get(path).await?;
        let (_, last_modified) = validators(&resp)?;
        let Some(time) = imf_fixdate(&last_modified) else {
            fail!(
                "{}: Last-Modified {last_modified:?} is not an IMF-fixdate",
                resp.what
            );
        };
        ensure!(
            unix(time) <= unix_now() + 60,
            "{}: Last-Modified {last_modified:?} is in the future",
            resp.what
        );
        ensure!(
            unix(time) > 946_684_800,
            "{}: Last-Modified {last_modified:?} is before 2000: not a build time",
            resp.what
        );
    }
    Ok(())
}

pub(crate) async fn last_modified_is_file_mtime(cx: &Ctx) -> CheckResult {
    let (ep, _) = static_dir(cx).await?;
    let resp = cx.get_at(&ep, "/mtime.txt").await?;
    resp.status(200)?
        .header_is("last-modified", &fmt_date(from_unix(FIXTURE_MTIME)))?;
    Ok(())
}

fn strong_etag(resp: &Resp) -> CheckResult<String> {
    let etag = resp.must_header("etag")?;
    ensure!(
        etag.len() >= 3
            && etag.starts_with('"')
            && etag.ends_with('"')
            && etag[1..etag.len() - 1]
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)),
        "{}: expected a strong ETag (`\"...\"`), got {etag:?}",
        resp.what
    );
    Ok(etag.to_owned())
}

pub(crate) async fn etag_is_strong_and_stable(cx: &Ctx) -> CheckResult {
    let a = strong_etag(&cx.get("/style.css").await?)?;
    let again = strong_etag(&cx.get("/style.css").await?)?;
    ensure_eq!(again, a, "the ETag of /style.css on a second GET");
    let b = strong_etag(&cx.get("/app.js").await?)?;
    ensure!(
        a != b,
        "different files must have different ETags, both are {a}"
    );
    let (ep, _) = static_dir(cx).await?;
    let x = strong_etag(&cx.get_at(&ep, "/twin-a.txt").await?)?;
    let y = strong_etag(&cx.get_at(&ep, "/other.txt").await?)?;
    ensure!(
        x != y,
        "files with different content must have different ETags, both are {x}"
    );
    Ok(())
}

/// Derived from the content: a new mtime alone keeps it, new content changes it.
pub(crate) async fn etag_follows_content_not_mtime(cx: &Ctx) -> CheckResult {
    let (ep, dir) = static_dir(cx).await?;
    let name = format!("etag-{}.txt", random_text(8));
    let path = format!("/{name}");
    let scratch = Scratch(dir.join(&name));
    write_file(&scratch.0, b"same bytes\n", Some(1_100_000_000))?;
    let first = cx.get_at(&ep, &path).await?;
    let (e1, l1) = validators(&first)?;
    write_file(&scratch.0, b"same bytes\n", Some(1_200_000_000))?;
    let second = cx.get_at(&ep, &path).await?;
    let (e2, l2) = validators(&second)?;
    ensure!(
        l1 != l2,
        "Last-Modified must follow the file's mtime ({l1} both times)"
    );
    ensure_eq!(
        e2,
        e1,
        "the ETag after only the mtime changed (it is derived from the content)"
    );
    write_file(&scratch.0, b"other bytes\n", Some(1_200_000_000))?;
    let third = cx.get_at(&ep, &path).await?;
    let (e3, _) = validators(&third)?;
    ensure!(e3 != e1, "new content must give a new ETag (still {e1})");
    Ok(())
}

pub(crate) async fn cache_control_no_cache(cx: &Ctx) -> CheckResult {
    for path in ["/", "/style.css", "/guide/", "/app.js"] {
        cx.get(path)
            .await?
            .status(200)?
            .header_is("cache-control", "no-cache")?;
    }
    if let Ok((ep, _)) = static_dir(cx).await {
        cx.get_at(&ep, "/f.txt")
            .await?
            .status(200)?
            .header_is("cache-control", "no-cache")?;
    }
    Ok(())
}

/// `GET path` with extra headers on `ep`.
async fn conditional(
    cx: &Ctx,
    ep: &Endpoint,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> CheckResult<Resp> {
    let mut request = cx.req_at(ep, method, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    cx.send(request).await
}

/// The endpoints and files to try conditionals on: the embedded `/style.css` and, when
/// present, the fixture's `/f.txt`.
async fn conditional_targets(cx: &Ctx) -> Vec<(Endpoint, &'static str)> {
    let mut targets = vec![(cx.main.clone(), "/style.css")];
    if let Ok((ep, _)) = static_dir(cx).await {
        targets.push((ep, "/f.txt"));
    }
    targets
}

fn expect_304(resp: &Resp, etag: &str, last_modified: &str) -> CheckResult {
    resp.status(304)?;
    resp.header_is("etag", etag)?
        .header_is("last-modified", last_modified)?
        .header_is("cache-control", "no-cache")?;
    resp.empty()?;
    Ok(())
}

pub(crate) async fn if_none_match_exact_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        expect_304(
            &conditional(cx, &ep, Method::GET, path, &[("if-none-match", &etag)]).await?,
            &etag,
            &lm,
        )?;
    }
    Ok(())
}

pub(crate) async fn if_none_match_weak_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        let weak = format!("W/{etag}");
        expect_304(
            &conditional(cx, &ep, Method::GET, path, &[("if-none-match", &weak)]).await?,
            &etag,
            &lm,
        )?;
    }
    Ok(())
}

pub(crate) async fn if_none_match_list_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        for list in [
            format!("\"nope\", {etag}"),
            format!("\"nope\",{etag},\"other\""),
            format!("W/\"x\", W/{etag}"),
        ] {
            expect_304(
                &conditional(cx, &ep, Method::GET, path, &[("if-none-match", &list)]).await?,
                &etag,
                &lm,
            )?;
        }
        conditional(
            cx,
            &ep,
            Method::GET,
            path,
            &[("if-none-match", "\"a\", \"b\"")],
        )
        .await?
        .status(200)?;
    }
    Ok(())
}

pub(crate) async fn if_none_match_star_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        expect_304(
            &conditional(cx, &ep, Method::GET, path, &[("if-none-match", "*")]).await?,
            &etag,
            &lm,
        )?;
    }
    Ok(())
}

pub(crate) async fn if_none_match_mismatch_200(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let full = cx.get_at(&ep, path).await?;
        let (etag, _) = validators(&full)?;
        let other = format!("\"x{}", etag.get(1..).unwrap_or("\""));
        let resp = conditional(cx, &ep, Method::GET, path, &[("if-none-match", &other)]).await?;
        resp.status(200)?;
        ensure!(
            resp.body == full.body,
            "{}: a non-matching If-None-Match must give the whole file",
            resp.what
        );
    }
    Ok(())
}

fn shifted(last_modified: &str, secs: i64) -> CheckResult<String> {
    let Some(time) = imf_fixdate(last_modified) else {
        fail!("Last-Modified {last_modified:?} is not an IMF-fixdate");
    };
    let shifted = unix(time) + secs;
    Ok(fmt_date(from_unix(u64::try_from(shifted).unwrap_or(0))))
}

pub(crate) async fn if_none_match_overrides_if_modified_since(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        let later = shifted(&lm, 86_400)?;
        let resp = conditional(
            cx,
            &ep,
            Method::GET,
            path,
            &[("if-none-match", "\"nope\""), ("if-modified-since", &later)],
        )
        .await?;
        resp.status(200)?;
        let early = "Mon, 01 Jan 1990 00:00:00 GMT";
        let resp = conditional(
            cx,
            &ep,
            Method::GET,
            path,
            &[("if-none-match", &etag), ("if-modified-since", early)],
        )
        .await?;
        expect_304(&resp, &etag, &lm)?;
    }
    Ok(())
}

pub(crate) async fn if_modified_since_at_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        expect_304(
            &conditional(cx, &ep, Method::GET, path, &[("if-modified-since", &lm)]).await?,
            &etag,
            &lm,
        )?;
    }
    if let Ok((ep, _)) = static_dir(cx).await {
        let date = fmt_date(from_unix(FIXTURE_MTIME));
        conditional(
            cx,
            &ep,
            Method::GET,
            "/mtime.txt",
            &[("if-modified-since", &date)],
        )
        .await?
        .status(304)?;
    }
    Ok(())
}

pub(crate) async fn if_modified_since_after_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        for secs in [1, 86_400] {
            let later = shifted(&lm, secs)?;
            expect_304(
                &conditional(cx, &ep, Method::GET, path, &[("if-modified-since", &later)]).await?,
                &etag,
                &lm,
            )?;
        }
    }
    Ok(())
}

pub(crate) async fn if_modified_since_before_200(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let full = cx.get_at(&ep, path).await?;
        let (_, lm) = validators(&full)?;
        for secs in [-1, -86_400] {
            let earlier = shifted(&lm, secs)?;
            let resp = conditional(
                cx,
                &ep,
                Method::GET,
                path,
                &[("if-modified-since", &earlier)],
            )
            .await?;
            resp.status(200)?;
            ensure!(
                resp.body == full.body,
                "{}: expected the whole file",
                resp.what
            );
        }
    }
    Ok(())
}

pub(crate) async fn if_modified_since_garbage_ignored(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        for garbage in [
            "yesterday",
            "Sun, 99 Nov 2094 08:49:37 GMT",
            "0",
            "",
            "Fri, 31 Dec 9999 23:59:59 GMT junk",
        ] {
            let resp = conditional(
                cx,
                &ep,
                Method::GET,
                path,
                &[("if-modified-since", garbage)],
            )
            .await?;
            ensure!(
                resp.status == 200,
                "If-Modified-Since {garbage:?} is unparsable and must be ignored: expected 200, got {}",
                resp.excerpt()
            );
        }
    }
    Ok(())
}

/// A 304 on the wire: ETag, Last-Modified, Cache-Control, no Content-Length, no body bytes.
pub(crate) async fn not_modified_headers(cx: &Ctx) -> CheckResult {
    let (etag, lm) = validators(&cx.get("/style.css").await?)?;
    let host = &cx.main.authority;
    let mut conn = RawConn::open(&cx.main).await?;
    conn.send(
        format!(
            "GET /style.css HTTP/1.1\r\nHost: {host}\r\nIf-None-Match: {etag}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await?;
    let resp = conn.read_reply(false).await?.response()?;
    cx.conventions(&resp)?;
    expect_304(&resp, &etag, &lm)?;
    let next = conn.read_reply(false).await?.response()?;
    ensure!(
        next.status == 200 && next.body.as_ref() == b"ok",
        "after a 304, the next response on the connection must be GET /healthz's `200 ok`, got {} (did the 304 carry a body?)",
        next.excerpt()
    );
    Ok(())
}

pub(crate) async fn head_conditional_304(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let (etag, lm) = validators(&cx.get_at(&ep, path).await?)?;
        expect_304(
            &conditional(cx, &ep, Method::HEAD, path, &[("if-none-match", &etag)]).await?,
            &etag,
            &lm,
        )?;
        expect_304(
            &conditional(cx, &ep, Method::HEAD, path, &[("if-modified-since", &lm)]).await?,
            &etag,
            &lm,
        )?;
    }
    Ok(())
}

pub(crate) async fn range_ignored(cx: &Ctx) -> CheckResult {
    for (ep, path) in conditional_targets(cx).await {
        let full = cx.get_at(&ep, path).await?;
        let (etag, _) = validators(&full)?;
        for headers in [
            vec![("range", "bytes=0-3")],
            vec![("range", "bytes=-2")],
            vec![("range", "bytes=1-1, 3-4")],
            vec![("range", "bytes=0-3"), ("if-range", etag.as_str())],
        ] {
            let resp = conditional(cx, &ep, Method::GET, path, &headers).await?;
            resp.status(200)?.no_header("content-range")?;
            ensure!(
                resp.body == full.body,
                "{}: with {headers:?} expected the whole file",
                resp.what
            );
        }
    }
    Ok(())
}

pub(crate) async fn post_on_static_405(cx: &Ctx) -> CheckResult {
    for path in [
        "/",
        "/index.html",
        "/style.css",
        "/guide/",
        "/guide",
        "/nothing-here",
        "/a/b/c",
    ] {
        let resp = cx
            .send(cx.post(
                &cx.main,
                path,
                Some("application/x-www-form-urlencoded"),
                "a=b",
            ))
            .await?;
        expect_405(&resp, "GET, HEAD")?;
    }
    Ok(())
}
