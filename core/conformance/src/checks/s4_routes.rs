//! SITE.md section 4: the route table (hello, users, logout, me, admin, teapot, plaintext,
//! json, healthz, openapi) and `WWW-Authenticate` on every 401.

use http::Method;
use serde_json::Value;

use super::support::{
    admin_session, cookie, creds, fresh_name, fresh_password, get_with_session, new_session,
    new_user, random_text, sign_up, user_doc,
};
use crate::client::{Ctx, FORM, Resp};
use crate::expect::{HTML, JSON, contains_escaped};
use crate::fail::CheckResult;

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "4";

const REALM: &str = "Cookie realm=\"sitebench\"";

async fn hello(cx: &Ctx, query: &str) -> CheckResult<Resp> {
    cx.get(&format!("/hello{query}")).await
}

async fn greets(cx: &Ctx, query: &str, greeting: &str) -> CheckResult {
    let resp = hello(cx, query).await?;
    resp.status(200)?.content_type(HTML)?;
    ensure!(
        contains_escaped(resp.text()?, greeting),
        "{}: expected the page to say {greeting:?}; {}",
        resp.what,
        resp.excerpt()
    );
    Ok(())
}

pub(crate) async fn hello_defaults_to_world(cx: &Ctx) -> CheckResult {
    greets(cx, "", "Hello, World!").await?;
    greets(cx, "?other=1", "Hello, World!").await
}

pub(crate) async fn hello_greets_name(cx: &Ctx) -> CheckResult {
    for query in ["?name=Ada", "?name=Ada&x=1", "?x=1&name=Ada"] {
        greets(cx, query, "Hello, Ada!").await?;
        let resp = hello(cx, query).await?;
        ensure!(
            !resp.text()?.contains("Hello, World!"),
            "{}: greeted the World instead of Ada",
            resp.what
        );
    }
    Ok(())
}

pub(crate) async fn hello_decodes_query(cx: &Ctx) -> CheckResult {
    greets(cx, "?name=Ada+Lovelace", "Hello, Ada Lovelace!").await?;
    greets(cx, "?name=Ada%20Lovelace", "Hello, Ada Lovelace!").await?;
    greets(cx, "?name=Ren%C3%A9", "Hello, Ren\u{e9}!").await?;
    greets(cx, "?name=1%2B1", "Hello, 1+1!").await
}

pub(crate) async fn hello_escapes_name(cx: &Ctx) -> CheckResult {
    let resp = hello(cx, "?name=%3Cb%3E%26%22%27").await?;
    resp.status(200)?;
    let text = resp.text()?;
    ensure!(
        !text.contains("<b>&"),
        "{}: the name is not HTML-escaped: {}",
        resp.what,
        resp.excerpt()
    );
    ensure!(
        contains_escaped(text, "Hello, <b>&\"'!"),
        "{}: expected the escaped greeting `Hello, &lt;b&gt;&amp;...!`; {}",
        resp.what,
        resp.excerpt()
    );
    Ok(())
}

pub(crate) async fn hello_rejects_empty_name(cx: &Ctx) -> CheckResult {
    for query in ["?name=", "?name", "?name=&x=1"] {
        hello(cx, query).await?.problem(400, Some("Bad Request"))?;
    }
    Ok(())
}

/// At most 64 characters (not bytes).
pub(crate) async fn hello_name_length_limit(cx: &Ctx) -> CheckResult {
    greets(
        cx,
        &format!("?name={}", "a".repeat(64)),
        &format!("Hello, {}!", "a".repeat(64)),
    )
    .await?;
    hello(cx, &format!("?name={}", "a".repeat(65)))
        .await?
        .problem(400, Some("Bad Request"))?;
    greets(
        cx,
        &format!("?name={}", "%C3%A9".repeat(64)),
        &format!("Hello, {}!", "\u{e9}".repeat(64)),
    )
    .await?;
    hello(cx, &format!("?name={}", "%C3%A9".repeat(65)))
        .await?
        .problem(400, Some("Bad Request"))?;
    Ok(())
}

pub(crate) async fn hello_rejects_name_twice(cx: &Ctx) -> CheckResult {
    for query in ["?name=a&name=b", "?name=Ada&name=Ada", "?name=&name=b"] {
        hello(cx, query).await?.problem(400, Some("Bad Request"))?;
    }
    Ok(())
}

pub(crate) async fn user_profile_json(cx: &Ctx) -> CheckResult {
    let (name, password) = (fresh_name("prof"), fresh_password());
    let created = sign_up(cx, &name, &password).await?;
    let (_, created_at, _) = user_doc(&created)?;
    let resp = cx.get(&format!("/users/{name}")).await?;
    resp.status(200)?;
    let (username, at, admin) = user_doc(&resp)?;
    ensure_eq!(username, name, "{}: username", resp.what);
    ensure_eq!(at, created_at, "{}: created_at vs the sign-up's", resp.what);
    ensure!(
        !admin,
        "{}: a user not named by --admin must have admin false",
        resp.what
    );
    Ok(())
}

pub(crate) async fn user_profile_case_insensitive(cx: &Ctx) -> CheckResult {
    let name = format!("MiXed{}", random_text(10));
    sign_up(cx, &name, &fresh_password()).await?;
    for asked in [name.to_ascii_lowercase(), name.to_ascii_uppercase()] {
        let resp = cx.get(&format!("/users/{asked}")).await?;
        resp.status(200)?;
        let (username, _, _) = user_doc(&resp)?;
        ensure_eq!(username, name, "{}: the username as signed up", resp.what);
    }
    Ok(())
}

pub(crate) async fn user_profile_unknown_404(cx: &Ctx) -> CheckResult {
    let unknown = fresh_name("nobody");
    for path in [
        format!("/users/{unknown}"),
        "/users/a".to_owned(),
        "/users/has%20space".to_owned(),
    ] {
        cx.get(&path).await?.problem(404, Some("Not Found"))?;
    }
    Ok(())
}

pub(crate) async fn user_profile_html_when_preferred(cx: &Ctx) -> CheckResult {
    let (name, _) = new_user(cx, "page").await?;
    let path = format!("/users/{name}");
    let resp = cx.get_accept(&path, "text/html").await?;
    resp.status(200)?.content_type(HTML)?.body_contains(&name)?;
    let resp = cx
        .get_accept(&path, "text/html;q=0.5, application/json")
        .await?;
    resp.status(200)?.content_type(JSON)?;
    Ok(())
}

/// `Set-Cookie` clearing the session cookie.
fn clears_cookie(resp: &Resp) -> CheckResult {
    let cookies = resp.header_all("set-cookie");
    ensure!(
        cookies.len() == 1
            && cookies[0].starts_with("sitebench_session=")
            && cookies[0].split(';').any(|a| a.trim() == "Max-Age=0")
            && cookies[0].split(';').any(|a| a.trim() == "Path=/"),
        "{}: expected `Set-Cookie: sitebench_session=...; Path=/; ...; Max-Age=0`, got {cookies:?}",
        resp.what
    );
    Ok(())
}

async fn logout(
    cx: &Ctx,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> CheckResult<Resp> {
    let mut request = cx.post(&cx.main, "/logout", content_type, body.to_owned());
    if let Some(token) = token {
        request = request.header("cookie", cookie(token));
    }
    cx.send(request).await
}

pub(crate) async fn logout_json_204(cx: &Ctx) -> CheckResult {
    let (_, _, token) = new_session(cx, "lo").await?;
    let resp = logout(cx, Some(&token), None, "").await?;
    resp.status(204)?.empty()?;
    clears_cookie(&resp)?;
    let (_, _, token) = new_session(cx, "lo").await?;
    let resp = logout(cx, Some(&token), Some("application/json"), "{}").await?;
    resp.status(204)?.empty()?;
    clears_cookie(&resp)
}

pub(crate) async fn logout_form_303(cx: &Ctx) -> CheckResult {
    let (_, _, token) = new_session(cx, "lf").await?;
    let resp = logout(cx, Some(&token), Some(FORM), "").await?;
    resp.status(303)?.header_is("location", "/")?;
    clears_cookie(&resp)?;
    let (_, _, token) = new_session(cx, "lf").await?;
    let resp = logout(cx, Some(&token), Some(FORM), "x=1").await?;
    resp.status(303)?.header_is("location", "/")?;
    Ok(())
}

pub(crate) async fn logout_deletes_session_server_side(cx: &Ctx) -> CheckResult {
    let (name, _, token) = new_session(cx, "ld").await?;
    get_with_session(cx, "/me", &token, None)
        .await?
        .status(200)?;
    logout(cx, Some(&token), None, "").await?.status(204)?;
    // The old cookie, replayed, no longer works: the session is gone server-side.
    let resp = get_with_session(cx, "/me", &token, None).await?;
    ensure!(
        resp.status == 401,
        "{name}: after logout the old session cookie must give 401 on /me, got {}",
        resp.excerpt()
    );
    Ok(())
}

pub(crate) async fn logout_is_idempotent(cx: &Ctx) -> CheckResult {
    let (_, _, token) = new_session(cx, "li").await?;
    logout(cx, Some(&token), None, "").await?.status(204)?;
    logout(cx, Some(&token), None, "").await?.status(204)?;
    logout(cx, None, None, "").await?.status(204)?;
    logout(cx, Some("not-a-real-session-token-at-all"), None, "")
        .await?
        .status(204)?;
    let resp = logout(cx, None, Some(FORM), "").await?;
    resp.status(303)?.header_is("location", "/")?;
    Ok(())
}

pub(crate) async fn me_json(cx: &Ctx) -> CheckResult {
    let (name, _, token) = new_session(cx, "me").await?;
    let resp = get_with_session(cx, "/me", &token, None).await?;
    resp.status(200)?;
    resp.account(&name, false)
}

pub(crate) async fn me_html_when_preferred(cx: &Ctx) -> CheckResult {
    let (name, _, token) = new_session(cx, "mh").await?;
    let resp = get_with_session(cx, "/me", &token, Some("text/html")).await?;
    resp.status(200)?.content_type(HTML)?.body_contains(&name)?;
    Ok(())
}

fn unauthorized(resp: &Resp) -> CheckResult {
    resp.problem(401, Some("Unauthorized"))?;
    resp.header_is("www-authenticate", REALM)?;
    Ok(())
}

pub(crate) async fn me_requires_session(cx: &Ctx) -> CheckResult {
    unauthorized(&cx.get("/me").await?)?;
    for header in ["sitebench_session=", "other=1", "sitebench_session"] {
        unauthorized(
            &cx.send(cx.req(Method::GET, "/me").header("cookie", header))
                .await?,
        )?;
    }
    Ok(())
}

pub(crate) async fn me_rejects_unknown_session(cx: &Ctx) -> CheckResult {
    for token in [random_text(43), "A".repeat(22), random_text(64)] {
        unauthorized(&get_with_session(cx, "/me", &token, None).await?)?;
    }
    Ok(())
}

fn flip(c: char) -> char {
    match c {
        'a' => 'b',
        'A' => 'B',
        '0' => '1',
        _ => 'a',
    }
}

pub(crate) async fn me_rejects_altered_session(cx: &Ctx) -> CheckResult {
    let (_, _, token) = new_session(cx, "alt").await?;
    let mut chars: Vec<char> = token.chars().collect();
    let mut altered = Vec::new();
    if let (Some(&first), Some(&last)) = (chars.first(), chars.last()) {
        chars[0] = flip(first);
        altered.push(chars.iter().collect::<String>());
        chars[0] = first;
        let n = chars.len() - 1;
        chars[n] = flip(last);
        altered.push(chars.iter().collect::<String>());
    }
    altered.push(format!("{token}x"));
    altered.push(token.chars().skip(1).collect());
    altered.push(token.chars().take(token.chars().count() - 1).collect());
    for bad in &altered {
        if bad != &token {
            unauthorized(&get_with_session(cx, "/me", bad, None).await?)?;
        }
    }
    get_with_session(cx, "/me", &token, None)
        .await?
        .status(200)?;
    Ok(())
}

pub(crate) async fn admin_requires_session(cx: &Ctx) -> CheckResult {
    unauthorized(&cx.get("/admin").await?)?;
    unauthorized(&get_with_session(cx, "/admin", &random_text(43), None).await?)
}

pub(crate) async fn admin_forbids_non_admin(cx: &Ctx) -> CheckResult {
    let (_, _, token) = new_session(cx, "na").await?;
    get_with_session(cx, "/admin", &token, None)
        .await?
        .problem(403, Some("Forbidden"))?;
    Ok(())
}

/// The `/admin` list: `(username, created_at, admin)` of each entry, checked.
async fn admin_list(
    cx: &Ctx,
    token: &str,
    accept: Option<&str>,
) -> CheckResult<Vec<(String, String, bool)>> {
    let resp = get_with_session(cx, "/admin", token, accept).await?;
    resp.status(200)?;
    let values = resp.json_doc(&["users"])?;
    let Some(users) = values[0].as_array() else {
        fail!("{}: `users` must be an array", resp.what);
    };
    ensure!(
        users.len() <= 100,
        "{}: at most 100 users are listed, got {}",
        resp.what,
        users.len()
    );
    let mut out = Vec::new();
    for user in users {
        let keys: Vec<&str> = user
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        ensure!(
            keys.len() == 3
                && user["username"].is_string()
                && user["created_at"].is_string()
                && user["admin"].is_boolean(),
            "{}: each user must be {{\"username\",\"created_at\",\"admin\"}}, got {user}",
            resp.what
        );
        out.push((
            user["username"].as_str().unwrap_or_default().to_owned(),
            user["created_at"].as_str().unwrap_or_default().to_owned(),
            user["admin"].as_bool().unwrap_or_default(),
        ));
    }
    for pair in out.windows(2) {
        ensure!(
            pair[0].0.to_lowercase() < pair[1].0.to_lowercase(),
            "{}: users must be sorted by name ignoring case: {:?} before {:?}",
            resp.what,
            pair[0].0,
            pair[1].0
        );
    }
    Ok(out)
}

pub(crate) async fn admin_lists_users(cx: &Ctx) -> CheckResult {
    let token = admin_session(cx).await?;
    let name = format!("0000{}", random_text(10));
    let created = sign_up(cx, &name, &fresh_password()).await?;
    let (_, created_at, _) = user_doc(&created)?;
    let users = admin_list(cx, &token, None).await?;
    let Some(entry) = users.iter().find(|u| u.0 == name) else {
        fail!("GET /admin: the new user {name:?} (sorting first) is not listed");
    };
    ensure!(
        entry.1 == created_at && !entry.2,
        "GET /admin: entry {entry:?} does not match the sign-up ({created_at}, admin false)"
    );
    if let Some(admin) = &cx.target.admin {
        let resp = cx.get(&format!("/users/{admin}")).await?;
        resp.status(200)?;
        let (_, _, is_admin) = user_doc(&resp)?;
        ensure!(
            is_admin,
            "{}: the --admin user must have admin true",
            resp.what
        );
        if let Some(entry) = users.iter().find(|u| u.0.eq_ignore_ascii_case(admin)) {
            ensure!(
                entry.2,
                "GET /admin: the --admin user is listed with admin false"
            );
        }
    }
    Ok(())
}

pub(crate) async fn admin_lists_first_100_by_name(cx: &Ctx) -> CheckResult {
    let token = admin_session(cx).await?;
    let before = admin_list(cx, &token, None).await?.len();
    let needed = if before < 100 { 101 - before } else { 1 };
    let batch = random_text(8);
    for i in 0..needed {
        sign_up(cx, &format!("zzcap{batch}-{i}"), &fresh_password()).await?;
    }
    let users = admin_list(cx, &token, None).await?;
    ensure!(
        users.len() == 100,
        "GET /admin with over 100 users must list exactly 100, got {}",
        users.len()
    );
    let first = format!("0000{}", random_text(10));
    sign_up(cx, &first, &fresh_password()).await?;
    let users = admin_list(cx, &token, None).await?;
    ensure!(
        users.iter().any(|u| u.0 == first),
        "GET /admin: {first:?} sorts among the first 100 but is not listed"
    );
    Ok(())
}

pub(crate) async fn admin_answers_json_even_for_html(cx: &Ctx) -> CheckResult {
    let token = admin_session(cx).await?;
    let resp = get_with_session(cx, "/admin", &token, Some("text/html")).await?;
    resp.status(200)?.content_type(JSON)?;
    admin_list(
        cx,
        &token,
        Some("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"),
    )
    .await?;
    Ok(())
}

/// One wording per code: `/teapot` explains 418 in the words `/status/418` uses.
pub(crate) async fn teapot_418(cx: &Ctx) -> CheckResult {
    let teapot = cx
        .get("/teapot")
        .await?
        .problem(418, Some("I'm a teapot"))?;
    let status = cx
        .get("/status/418")
        .await?
        .problem(418, Some("I'm a teapot"))?;
    ensure!(
        teapot.detail == status.detail,
        "GET /teapot explains 418 as {:?} but GET /status/418 as {:?}: one wording per code",
        teapot.detail,
        status.detail
    );
    Ok(())
}

pub(crate) async fn plaintext_exact(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/plaintext").await?;
    resp.status(200)?
        .content_type("text/plain; charset=utf-8")?
        .body_is(b"Hello, World!")?;
    resp.header_is("content-length", "13")?;
    Ok(())
}

pub(crate) async fn json_exact(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/json").await?;
    resp.status(200)?
        .content_type(JSON)?
        .body_is(br#"{"message":"Hello, World!"}"#)?;
    Ok(())
}

pub(crate) async fn healthz_ok(cx: &Ctx) -> CheckResult {
    let resp = cx.get("/healthz").await?;
    resp.status(200)?
        .content_type("text/plain; charset=utf-8")?
        .body_is(b"ok")?;
    Ok(())
}

/// Every route of the table and its methods.
const ROUTES: &[(&str, &str)] = &[
    ("/hello", "get"),
    ("/users", "post"),
    ("/users/{username}", "get"),
    ("/login", "post"),
    ("/logout", "post"),
    ("/me", "get"),
    ("/admin", "get"),
    ("/status/{code}", "get"),
    ("/teapot", "get"),
    ("/plaintext", "get"),
    ("/json", "get"),
    ("/healthz", "get"),
    ("/openapi.json", "get"),
];
const OPERATIONS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn openapi(cx: &Ctx) -> CheckResult<Value> {
    let resp = cx.get("/openapi.json").await?;
    resp.status(200)?.content_type(JSON)?;
    resp.json()
}

/// Follows a local `$ref`.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..8 {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => match doc.pointer(pointer) {
                Some(target) => value = target,
                None => return value,
            },
            None => return value,
        }
    }
    value
}

pub(crate) async fn openapi_lists_every_route(cx: &Ctx) -> CheckResult {
    let doc = openapi(cx).await?;
    let version = doc["openapi"].as_str().unwrap_or_default();
    ensure!(
        version.starts_with("3.1"),
        "openapi.json: expected `openapi: 3.1.x`, got {:?}",
        doc["openapi"]
    );
    ensure!(
        doc["info"]["title"].is_string() && doc["info"]["version"].is_string(),
        "openapi.json: info.title and info.version are required"
    );
    let Some(paths) = doc["paths"].as_object() else {
        fail!("openapi.json: `paths` must be an object");
    };
    let mut got: Vec<&str> = paths.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    got.sort_unstable();
    want.sort_unstable();
    ensure_eq!(
        got,
        want,
        "openapi.json: the paths (every route but the static ones)"
    );
    for (path, method) in ROUTES {
        let item = resolve(&doc, &paths[*path]);
        let ops: Vec<&str> = OPERATIONS
            .iter()
            .copied()
            .filter(|op| item.get(*op).is_some())
            .collect();
        let ok = if *method == "get" {
            ops == ["get"] || ops == ["get", "head"]
        } else {
            ops == ["post"]
        };
        ensure!(
            ok,
            "openapi.json: {path} must document exactly {method} (HEAD optional for GET), got {ops:?}"
        );
        ensure!(
            item[*method]["responses"].is_object(),
            "openapi.json: {method} {path} has no responses"
        );
    }
    Ok(())
}

pub(crate) async fn openapi_documents_bodies_and_problems(cx: &Ctx) -> CheckResult {
    let doc = openapi(cx).await?;
    for path in ["/users", "/login"] {
        let body = resolve(&doc, &doc["paths"][path]["post"]["requestBody"]);
        for media in ["application/json", FORM] {
            ensure!(
                body["content"].get(media).is_some(),
                "openapi.json: POST {path} requestBody must describe {media}"
            );
        }
    }
    let codes: &[(&str, &str, &[&str])] = &[
        ("/hello", "get", &["200", "400"]),
        (
            "/users",
            "post",
            &["201", "303", "400", "409", "413", "415", "422"],
        ),
        ("/users/{username}", "get", &["200", "404"]),
        (
            "/login",
            "post",
            &["200", "303", "400", "401", "413", "415", "429"],
        ),
        ("/logout", "post", &["204", "303"]),
        ("/me", "get", &["200", "401"]),
        ("/admin", "get", &["200", "401", "403"]),
        ("/status/{code}", "get", &["400"]),
        ("/teapot", "get", &["418"]),
        ("/plaintext", "get", &["200"]),
        ("/json", "get", &["200"]),
        ("/healthz", "get", &["200"]),
        ("/openapi.json", "get", &["200"]),
    ];
    for (path, method, want) in codes {
        let responses = resolve(&doc, &doc["paths"][*path][*method]["responses"]);
        for code in *want {
            let Some(response) = responses.get(*code) else {
                fail!("openapi.json: {method} {path} must document response {code}");
            };
            let response = resolve(&doc, response);
            if code.starts_with('4') || code.starts_with('5') {
                ensure!(
                    response["content"]
                        .get("application/problem+json")
                        .is_some(),
                    "openapi.json: {method} {path} response {code} must be application/problem+json"
                );
            }
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let has_problem = schemas.values().any(|schema| {
        let props = &resolve(&doc, schema)["properties"];
        ["type", "title", "status", "detail"]
            .iter()
            .all(|p| props.get(*p).is_some())
    });
    ensure!(
        has_problem,
        "openapi.json: components.schemas must hold the problem schema (type, title, status, detail)"
    );
    Ok(())
}

pub(crate) async fn openapi_is_stable(cx: &Ctx) -> CheckResult {
    let a = cx.get("/openapi.json").await?;
    let b = cx.get("/openapi.json").await?;
    ensure!(
        a.body == b.body,
        "GET /openapi.json must give the same document every time"
    );
    Ok(())
}

pub(crate) async fn unauthorized_carries_www_authenticate(cx: &Ctx) -> CheckResult {
    unauthorized(&cx.get("/me").await?)?;
    unauthorized(&cx.get("/admin").await?)?;
    cx.head("/me")
        .await?
        .status(401)?
        .header_is("www-authenticate", REALM)?;
    let (name, _) = new_user(cx, "wa").await?;
    unauthorized(
        &cx.post_json("/login", &creds(&name, "definitely-wrong"))
            .await?,
    )?;
    let resp = cx.get("/status/401").await?;
    resp.status(401)?.header_is("www-authenticate", REALM)?;
    Ok(())
}
