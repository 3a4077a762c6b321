//! SITE.md section 1: conventions for every response.

use std::time::{Duration, SystemTime};

use http::Method;
use site_core::Deviation;

use super::support::{
    cookie, creds, expect_405, framework_reason, fresh_name, fresh_password, get_with_session,
    new_session, oversized_post, serving_new_database, sign_up_at, still_serving,
};
use crate::client::{Ctx, Endpoint, RawConn, Resp, get_request};
use crate::expect::{HTML, PROBLEM_JSON, contains_escaped, imf_fixdate, unix, unix_now};
use crate::fail::{CheckResult, Failure};

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "1";

/// `Server: sitebench-<backend>` on successes, errors, framework errors.
pub(crate) async fn server_header_names_backend(cx: &Ctx) -> CheckResult {
    let requests = [
        cx.req(Method::GET, "/plaintext"),
        cx.req(Method::GET, "/"),
        cx.req(Method::GET, "/nothing-here"),
        cx.req(Method::GET, "/teapot"),
        cx.req(Method::POST, "/plaintext"),
        cx.req(Method::PUT, "/plaintext"),
        cx.req(Method::HEAD, "/json"),
    ];
    for request in requests {
        let resp = cx.send_unchecked(request).await?;
        let servers = resp.header_all("server");
        match &cx.target.backend {
            Some(backend) => ensure!(
                servers == [format!("sitebench-{backend}")],
                "{}: expected exactly one `Server: sitebench-{backend}`, got {servers:?}",
                resp.what
            ),
            None => ensure!(
                servers.len() == 1 && servers[0].starts_with("sitebench-"),
                "{}: expected exactly one `Server: sitebench-<backend>`, got {servers:?}",
                resp.what
            ),
        }
    }
    Ok(())
}

/// A `Date` header, an IMF-fixdate close to now.
pub(crate) async fn date_header_is_imf_fixdate(cx: &Ctx) -> CheckResult {
    for path in ["/plaintext", "/nothing-here", "/style.css"] {
        let resp = cx.send_unchecked(cx.req(Method::GET, path)).await?;
        let date = resp.must_header("date")?;
        let Some(time) = imf_fixdate(date) else {
            fail!(
                "{}: Date {date:?} is not an IMF-fixdate like `Sun, 06 Nov 1994 08:49:37 GMT`",
                resp.what
            );
        };
        let skew = (unix(time) - unix_now()).abs();
        ensure!(
            skew <= 60,
            "{}: Date {date:?} is {skew} s away from now",
            resp.what
        );
    }
    Ok(())
}

/// Seen on the wire: bodies carry `Content-Type` and `Content-Length`, never chunked.
pub(crate) async fn bodies_have_type_and_length(cx: &Ctx) -> CheckResult {
    for path in [
        "/",
        "/plaintext",
        "/json",
        "/openapi.json",
        "/style.css",
        "/hello?name=Ada",
        "/teapot",
        "/status/200",
    ] {
        let resp = cx
            .raw(&cx.main, get_request(&cx.main, "GET", path, &[]).as_bytes())
            .await?
            .response()?;
        resp.no_header("transfer-encoding")?;
        resp.must_header("content-type")?;
        let length = resp.must_header("content-length")?;
        ensure_eq!(
            length,
            resp.body.len().to_string(),
            "{}: Content-Length vs the body's length",
            resp.what
        );
        ensure!(!resp.body.is_empty(), "{}: expected a body", resp.what);
        cx.conventions(&resp)?;
    }
    Ok(())
}

/// Text types carry `; charset=utf-8`, exactly as SITE.md writes them.
pub(crate) async fn text_types_carry_utf8_charset(cx: &Ctx) -> CheckResult {
    let cases = [
        ("/plaintext", "text/plain; charset=utf-8"),
        ("/healthz", "text/plain; charset=utf-8"),
        ("/hello", HTML),
        ("/", HTML),
        ("/guide/", HTML),
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
    ];
    for (path, want) in cases {
        cx.get(path).await?.status(200)?.content_type(want)?;
    }
    Ok(())
}

/// HEAD gives GET's status and headers (but `Date`) and no body.
async fn head_matches_get(
    cx: &Ctx,
    ep: &Endpoint,
    path: &str,
    headers: &[(&str, &str)],
) -> CheckResult {
    let mut get = cx.req_at(ep, Method::GET, path);
    let mut head = cx.req_at(ep, Method::HEAD, path);
    for (name, value) in headers {
        get = get.header(*name, *value);
        head = head.header(*name, *value);
    }
    let get = cx.send(get).await?;
    let head = cx.send(head).await?;
    same_but_body(&get, &head)
}

fn same_but_body(get: &Resp, head: &Resp) -> CheckResult {
    ensure_eq!(
        head.status,
        get.status,
        "{}: status of HEAD vs GET",
        head.what
    );
    ensure!(
        head.body.is_empty(),
        "{}: HEAD must have no body, got {} bytes",
        head.what,
        head.body.len()
    );
    let mut names: Vec<&str> = get
        .headers
        .keys()
        .chain(head.headers.keys())
        .map(|n| n.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names.into_iter().filter(|n| *n != "date") {
        let (g, h) = (get.header_all(name), head.header_all(name));
        ensure!(
            g == h,
            "{}: header `{name}` differs: GET {g:?}, HEAD {h:?}",
            head.what
        );
    }
    Ok(())
}

pub(crate) async fn head_matches_get_dynamic(cx: &Ctx) -> CheckResult {
    for path in [
        "/plaintext",
        "/json",
        "/healthz",
        "/hello",
        "/hello?name=Ada",
        "/openapi.json",
        "/status/200",
        "/status/308",
    ] {
        head_matches_get(cx, &cx.main, path, &[]).await?;
    }
    Ok(())
}

pub(crate) async fn head_matches_get_static(cx: &Ctx) -> CheckResult {
    for path in [
        "/",
        "/index.html",
        "/style.css",
        "/app.js",
        "/favicon.svg",
        "/guide/",
        "/guide",
        "/guide?x=1",
    ] {
        head_matches_get(cx, &cx.main, path, &[]).await?;
    }
    Ok(())
}

pub(crate) async fn head_matches_get_errors(cx: &Ctx) -> CheckResult {
    let unknown = format!("/users/{}", fresh_name("nobody-"));
    for path in [
        "/teapot",
        "/nothing-here",
        "/status/404",
        "/status/abc",
        "/hello?name=",
        "/me",
        "/admin",
        unknown.as_str(),
    ] {
        head_matches_get(cx, &cx.main, path, &[]).await?;
        head_matches_get(cx, &cx.main, path, &[("accept", "text/html")]).await?;
    }
    Ok(())
}

/// On the wire, a HEAD response is followed directly by the next response on the connection.
pub(crate) async fn head_sends_no_body_on_wire(cx: &Ctx) -> CheckResult {
    for path in ["/plaintext", "/", "/teapot", "/nothing-here"] {
        let mut conn = RawConn::open(&cx.main).await?;
        let host = &cx.main.authority;
        conn.send(format!("HEAD {path} HTTP/1.1\r\nHost: {host}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
            .await?;
        conn.read_reply(true).await?.response()?;
        let next = conn.read_reply(false).await?.response()?;
        ensure!(
            next.status == 200 && next.body.as_ref() == b"ok",
            "HEAD {path} then GET /healthz on one connection: the second response must be `200 ok`, got {} (did HEAD send a body?)",
            next.excerpt()
        );
    }
    Ok(())
}

/// 4xx/5xx are `application/problem+json` with exactly the four members.
pub(crate) async fn errors_are_problem_details(cx: &Ctx) -> CheckResult {
    let unknown = format!("/users/{}", fresh_name("nobody-"));
    let cases = [
        ("/teapot", 418, "I'm a teapot"),
        ("/nothing-here", 404, "Not Found"),
        ("/status/404", 404, "Not Found"),
        ("/status/500", 500, "Internal Server Error"),
        (unknown.as_str(), 404, "Not Found"),
        ("/status/abc", 400, "Bad Request"),
        ("/hello?name=", 400, "Bad Request"),
        ("/me", 401, "Unauthorized"),
    ];
    for (path, status, title) in cases {
        cx.get(path).await?.problem(status, Some(title))?;
    }
    Ok(())
}

/// What the framework itself raises (unmatched route, wrong method, body limit, bad JSON,
/// unsupported type) is rendered the same way.
pub(crate) async fn framework_errors_are_problem_details(cx: &Ctx) -> CheckResult {
    cx.get("/no/such/deep/path")
        .await?
        .problem(404, Some("Not Found"))?;
    let resp = cx.send(cx.req(Method::POST, "/plaintext")).await?;
    expect_405(&resp, "GET, HEAD")?;
    cx.send(cx.req(Method::PUT, "/plaintext"))
        .await?
        .problem(501, Some("Not Implemented"))?;
    cx.send(cx.post(
        &cx.main,
        "/users",
        Some("application/json"),
        "{\"username\":",
    ))
    .await?
    .problem(400, Some("Bad Request"))?;
    cx.send(cx.post(&cx.main, "/users", Some("text/plain"), "username=x"))
        .await?
        .problem(415, Some("Unsupported Media Type"))?;
    let resp = oversized_post(cx, "/users", "application/json", 17 * 1024).await?;
    cx.conventions(&resp)?;
    resp.problem(413, Some("Content Too Large"))?;
    Ok(())
}

/// `Accept: text/html` turns an error into an HTML page with status, title, detail.
pub(crate) async fn error_html_when_accept_prefers_html(cx: &Ctx) -> CheckResult {
    let cases = [
        ("/teapot", 418, "I'm a teapot"),
        ("/nothing-here", 404, "Not Found"),
        ("/status/503", 503, "Service Unavailable"),
    ];
    for (path, status, title) in cases {
        let json = cx
            .get_accept(path, "application/json")
            .await?
            .problem(status, Some(title))?;
        let html = cx.get_accept(path, "text/html").await?;
        html.html_error(status, title, Some(&json.detail))?;
    }
    let resp = cx
        .send(
            cx.req(Method::POST, "/plaintext")
                .header("accept", "text/html"),
        )
        .await?;
    resp.header_is("allow", "GET, HEAD")?;
    resp.html_error(405, "Method Not Allowed", None)?;
    Ok(())
}

/// Request text that ends up in an HTML error page is escaped.
pub(crate) async fn error_html_escapes_detail(cx: &Ctx) -> CheckResult {
    let marker = "<x-sb>";
    let paths = [
        "/users/%3Cx-sb%3E".to_owned(),
        "/nothing%3Cx-sb%3E".to_owned(),
        "/status/%3Cx-sb%3E".to_owned(),
        "/hello?name=%3Cx-sb%3E&name=%22%27%26".to_owned(),
        format!("/hello?name={}", "%3Cx-sb%3E".repeat(20)),
    ];
    for path in &paths {
        let json = cx.get_accept(path, "application/json").await?;
        ensure!(
            json.status >= 400,
            "{}: expected an error, got {}",
            json.what,
            json.excerpt()
        );
        let problem = json.problem(json.status, None)?;
        let html = cx.get_accept(path, "text/html").await?;
        let title = crate::expect::ordered_object(&json.body)?
            .into_iter()
            .find(|(k, _)| k == "title")
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let text = html.html_error(json.status, &title, Some(&problem.detail))?;
        ensure!(
            !text.contains(marker),
            "{}: the HTML error page contains the request's `{marker}` unescaped",
            html.what
        );
        ensure!(
            contains_escaped(text, &problem.detail),
            "{}: detail not escaped",
            html.what
        );
    }
    Ok(())
}

/// Which form `GET /teapot` takes with this `Accept` (`None`: no header at all).
async fn negotiated_html(cx: &Ctx, accept: Option<&str>) -> CheckResult<bool> {
    let resp = match accept {
        Some(accept) => cx.get_accept("/teapot", accept).await?,
        None => {
            let request = format!(
                "GET /teapot HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                cx.main.authority
            );
            cx.raw_resp(&cx.main, request.as_bytes()).await?
        }
    };
    resp.status(418)?;
    match resp.header("content-type") {
        Some(PROBLEM_JSON) => Ok(false),
        Some(HTML) => Ok(true),
        other => fail!(
            "{}: expected {PROBLEM_JSON} or {HTML}, got {other:?}",
            resp.what
        ),
    }
}

async fn expect_negotiation(cx: &Ctx, cases: &[&str], html: bool) -> CheckResult {
    for accept in cases {
        let got = negotiated_html(cx, Some(accept)).await?;
        ensure!(
            got == html,
            "Accept {accept:?}: expected {}, got {}",
            if html {
                "an HTML error page"
            } else {
                "problem+json"
            },
            if got { "HTML" } else { "problem+json" }
        );
    }
    Ok(())
}

pub(crate) async fn accept_absent_gives_json(cx: &Ctx) -> CheckResult {
    ensure!(
        !negotiated_html(cx, None).await?,
        "no Accept header must give problem+json, got HTML"
    );
    Ok(())
}

pub(crate) async fn accept_html_gives_html(cx: &Ctx) -> CheckResult {
    expect_negotiation(
        cx,
        &[
            "text/html",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html;q=0.9, */*;q=0.8",
        ],
        true,
    )
    .await
}

pub(crate) async fn accept_tie_goes_to_json(cx: &Ctx) -> CheckResult {
    expect_negotiation(
        cx,
        &[
            "text/html, application/json",
            "application/json, text/html",
            "text/html, */*",
            "text/html;q=0.5, application/problem+json;q=0.5",
            "text/html;q=0.7, application/*;q=0.7",
        ],
        false,
    )
    .await
}

pub(crate) async fn accept_higher_json_q_gives_json(cx: &Ctx) -> CheckResult {
    expect_negotiation(
        cx,
        &[
            "text/html;q=0.5, application/json",
            "text/html;q=0.8, */*;q=0.9",
            "text/html;q=0.1, application/problem+json",
            "application/json",
            "*/*",
        ],
        false,
    )
    .await
}

pub(crate) async fn accept_q_values_pick_html(cx: &Ctx) -> CheckResult {
    expect_negotiation(
        cx,
        &[
            "application/json;q=0.5, text/html",
            "text/*;q=0.9, application/json;q=0.8",
            "text/html, application/*;q=0.9",
        ],
        true,
    )
    .await
}

/// The most specific matching range gives a type its q-value.
pub(crate) async fn accept_most_specific_range_wins(cx: &Ctx) -> CheckResult {
    expect_negotiation(
        cx,
        &[
            "*/*;q=0.5, text/html;q=0.4",
            "text/html;q=0.3, text/*;q=0.9, application/json;q=0.5",
        ],
        false,
    )
    .await?;
    expect_negotiation(
        cx,
        &["text/*;q=0.1, text/html;q=0.9, application/json;q=0.5"],
        true,
    )
    .await
}

pub(crate) async fn accept_unrelated_types_give_json(cx: &Ctx) -> CheckResult {
    expect_negotiation(cx, &["text/plain", "image/png", "application/xml"], false).await
}

/// A panicking handler gives a 500 problem and the server keeps serving.
pub(crate) async fn panic_gives_500_and_server_survives(cx: &Ctx) -> CheckResult {
    let Some(path) = cx.target.panic_path.clone() else {
        skip!("no panic path in this target");
    };
    for _ in 0..3 {
        cx.get(&path)
            .await?
            .problem(500, Some("Internal Server Error"))?;
    }
    cx.get_accept(&path, "text/html")
        .await?
        .html_error(500, "Internal Server Error", None)?;
    let started = SystemTime::now();
    still_serving(cx).await?;
    ensure!(
        started.elapsed().unwrap_or_default() < Duration::from_secs(5),
        "after panics, /healthz took over 5 s"
    );
    Ok(())
}

/// The status line's reason phrase is the site's: the problem's `title` (RFC 9110's names,
/// not a framework's older ones), empty for a code no standard names, and the same on errors
/// the framework raises itself.
pub(crate) async fn status_line_reason_is_the_sites(cx: &Ctx) -> CheckResult {
    let host = &cx.main.authority;
    let mut requests = vec![
        format!("GET /plaintext HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        format!("GET /no-such-page HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        format!(
            "POST /plaintext HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    ];
    // Every code the table names (a framework's own table may lack some: actix's had no 425),
    // and one it does not.
    for code in site_core::status_codes::named_codes()
        .filter(|&c| c >= 200)
        .chain([599])
    {
        requests.push(format!(
            "GET /status/{code} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        ));
    }
    let declared = cx
        .target
        .deviations
        .contains(&Deviation::CanonicalReasonPhrase);
    let framework_table = cx
        .target
        .deviations
        .contains(&Deviation::FrameworkStatusTable);
    let mut differs = false;
    for request in requests {
        let resp = cx.raw_resp(&cx.main, request.as_bytes()).await?;
        let sent = resp.reason.clone().unwrap_or_default();
        // The table of SITE.md 4.3; a code no standard names has an empty phrase.
        let ours = site_core::status_codes::reason_phrase(resp.status)
            .unwrap_or_default()
            .to_owned();
        if declared {
            let canonical = http::StatusCode::from_u16(resp.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("<none>");
            ensure!(
                sent == canonical,
                "{}: the declared deviation CanonicalReasonPhrase expects {canonical:?} on the status line, got {sent:?}",
                resp.what
            );
            differs |= sent != ours;
        } else if framework_table {
            // A code missing from the framework's table comes back as the core's 500.
            let theirs = framework_reason(resp.status).unwrap_or("<none>");
            ensure!(
                sent == theirs,
                "{}: the declared deviation FrameworkStatusTable expects {theirs:?} on the status line, got {sent:?}",
                resp.what
            );
            differs |= sent != ours;
        } else {
            ensure!(
                sent == ours,
                "{}: status line {} {sent:?}, but the site's phrase is {ours:?}",
                resp.what,
                resp.status
            );
        }
    }
    ensure!(
        !declared || differs,
        "the declared deviation CanonicalReasonPhrase is not seen: every status line has the site's phrase (drop the deviation)"
    );
    ensure!(
        !framework_table || differs,
        "the declared deviation FrameworkStatusTable is not seen: every status line has the site's phrase (drop the deviation)"
    );
    Ok(())
}

/// A cache must key a negotiated answer on `Accept`: the routes with an HTML form of their
/// answer and every error, the framework's own included, say `Vary: Accept`.
pub(crate) async fn negotiated_responses_vary_on_accept(cx: &Ctx) -> CheckResult {
    let (name, _, token) = new_session(cx, "va").await?;
    let responses = [
        cx.get(&format!("/users/{name}")).await?,
        get_with_session(cx, "/me", &token, Some("text/html")).await?,
        get_with_session(cx, "/me", &token, None).await?,
        cx.get("/no-such-page").await?,
        cx.get("/me").await?,
        cx.get("/status/404").await?,
        cx.send(cx.post(&cx.main, "/plaintext", None, String::new()))
            .await?,
    ];
    for resp in responses {
        let vary = resp.header_all("vary").join(", ");
        ensure!(
            vary.split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("accept")),
            "{}: status {} without `Vary: Accept` (got {vary:?}): its body depends on Accept",
            resp.what,
            resp.status
        );
    }
    Ok(())
}

/// What depends on the session is never stored by a cache: `/me` and `/admin` whatever their
/// status, and every response that sets or clears the session cookie.
pub(crate) async fn session_responses_are_not_stored(cx: &Ctx) -> CheckResult {
    let (name, password, token) = new_session(cx, "ns").await?;
    let login = cx
        .send(cx.post(
            &cx.main,
            "/login",
            Some("application/json"),
            creds(&name, &password).to_string(),
        ))
        .await?;
    login.status(200)?;
    let responses = [
        login,
        get_with_session(cx, "/me", &token, None).await?,
        cx.get("/me").await?,
        cx.get("/admin").await?,
        get_with_session(cx, "/admin", &token, None).await?,
        cx.send(
            cx.post(&cx.main, "/logout", None, String::new())
                .header("cookie", cookie(&token)),
        )
        .await?,
    ];
    for resp in responses {
        let cache_control = resp.header_all("cache-control").join(", ");
        ensure!(
            cache_control
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("no-store")),
            "{}: status {} without `Cache-Control: no-store` (got {cache_control:?}): it depends on the session",
            resp.what,
            resp.status
        );
    }
    Ok(())
}

/// A failure of storage is a `500` whose cause reaches stderr, one line even under `--quiet`
/// (SITE.md 1), and the server goes on. The fault is real: the check holds SQLite's write
/// lock on the server's database from outside until the server's busy timeout gives up.
pub(crate) async fn storage_failure_is_logged_with_its_cause(cx: &Ctx) -> CheckResult {
    let (_dir, db, proc, ep) = serving_new_database(cx, "locked.db", "lk").await?;
    let lock = rusqlite::Connection::open(&db)
        .and_then(|c| c.execute_batch("BEGIN EXCLUSIVE").map(|()| c))
        .map_err(|e| Failure::fail(format!("cannot lock {}: {e}", db.display())))?;
    let name = fresh_name("lk");
    let resp = cx
        .send(cx.post(
            &ep,
            "/users",
            Some("application/json"),
            creds(&name, &fresh_password()).to_string(),
        ))
        .await?;
    resp.problem(500, Some("Internal Server Error"))?;
    let line = proc
        .wait_stderr(Duration::from_secs(5), |l| l.contains("500"))
        .await;
    drop(lock);
    let Some(line) = line else {
        fail!(
            "a 500 from a locked database left no line on stderr under --quiet; stderr {:?}",
            proc.stderr()
        );
    };
    let lower = line.to_ascii_lowercase();
    ensure!(
        lower.contains("sqlite") && lower.contains("locked"),
        "the 500's stderr line {line:?} should name its cause (SQLite: database is locked)"
    );
    ensure!(
        !String::from_utf8_lossy(&resp.body).contains("locked"),
        "the client must see only the generic problem, not the cause: {}",
        resp.excerpt()
    );
    // The lock is gone: the server goes on.
    sign_up_at(cx, &ep, &name, &fresh_password()).await?;
    Ok(())
}
