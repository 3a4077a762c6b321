//! SITE.md section 2: methods.

use http::Method;
use site_core::Deviation;

use super::support::{expect_405, expect_not_implemented, fresh_name};
use crate::client::{Ctx, Resp, get_request};
use crate::fail::CheckResult;

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "2";

/// Every GET route of section 4.
const GET_ROUTES: &[&str] = &[
    "/hello",
    "/users/someone",
    "/me",
    "/admin",
    "/status/200",
    "/teapot",
    "/plaintext",
    "/json",
    "/healthz",
    "/openapi.json",
];
const POST_ROUTES: &[&str] = &["/users", "/login", "/logout"];

pub(crate) async fn get_routes_answer_405_to_post(cx: &Ctx) -> CheckResult {
    for path in GET_ROUTES {
        let resp = cx
            .send(cx.post(&cx.main, path, Some("application/json"), "{}"))
            .await?;
        expect_405(&resp, "GET, HEAD")?;
    }
    Ok(())
}

pub(crate) async fn post_routes_answer_405_to_get(cx: &Ctx) -> CheckResult {
    for path in POST_ROUTES {
        expect_405(&cx.get(path).await?, "POST")?;
    }
    Ok(())
}

pub(crate) async fn post_routes_answer_405_to_head(cx: &Ctx) -> CheckResult {
    for path in POST_ROUTES {
        let resp = cx.head(path).await?;
        expect_405(&resp, "POST")?;
    }
    Ok(())
}

async fn not_implemented(cx: &Ctx, method: &str, paths: &[&str]) -> CheckResult {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|e| crate::fail::Failure::fail(format!("{e}")))?;
    for path in paths {
        let resp = cx.send(cx.req(method.clone(), path)).await?;
        expect_not_implemented(&resp)?;
    }
    Ok(())
}

pub(crate) async fn put_is_501(cx: &Ctx) -> CheckResult {
    not_implemented(
        cx,
        "PUT",
        &[
            "/plaintext",
            "/users",
            "/users/someone",
            "/",
            "/nothing-here",
            "/style.css",
        ],
    )
    .await
}

pub(crate) async fn delete_is_501(cx: &Ctx) -> CheckResult {
    let user = format!("/users/{}", fresh_name("x"));
    not_implemented(
        cx,
        "DELETE",
        &[
            "/me",
            "/logout",
            user.as_str(),
            "/index.html",
            "/nothing-here",
        ],
    )
    .await
}

pub(crate) async fn patch_is_501(cx: &Ctx) -> CheckResult {
    not_implemented(
        cx,
        "PATCH",
        &["/users", "/admin", "/guide/", "/nothing-here"],
    )
    .await
}

pub(crate) async fn options_is_501(cx: &Ctx) -> CheckResult {
    not_implemented(
        cx,
        "OPTIONS",
        &["/", "/users", "/login", "/plaintext", "/nothing-here"],
    )
    .await
}

pub(crate) async fn trace_is_501(cx: &Ctx) -> CheckResult {
    not_implemented(cx, "TRACE", &["/", "/healthz"]).await
}

/// A method the framework may not know: the core's 501, or where the backend declares
/// `MethodRefusedByFramework`, the framework's own bare 501 (only its status and its empty
/// body are checked; the conventions do not hold for it).
fn expect_unknown_method_501(cx: &Ctx, resp: &Resp) -> CheckResult {
    if cx
        .target
        .deviations
        .contains(&Deviation::MethodRefusedByFramework)
    {
        resp.status(501)?;
        ensure!(
            resp.body.is_empty(),
            "{}: the declared deviation MethodRefusedByFramework expects the framework's bare 501, got {} (drop the deviation if the core now answers)",
            resp.what,
            resp.excerpt()
        );
        return Ok(());
    }
    cx.conventions(resp)?;
    expect_not_implemented(resp)
}

/// Methods nobody registered (`BREW`, `FOO`).
pub(crate) async fn extension_method_is_501(cx: &Ctx) -> CheckResult {
    for (method, paths) in [
        ("BREW", &["/", "/teapot", "/users"][..]),
        ("FOO", &["/plaintext", "/nothing-here"]),
    ] {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|e| crate::fail::Failure::fail(format!("{e}")))?;
        for path in paths {
            let resp = cx.send_unchecked(cx.req(method.clone(), path)).await?;
            expect_unknown_method_501(cx, &resp)?;
        }
    }
    Ok(())
}

/// Methods are case-sensitive: `get` is not `GET`.
pub(crate) async fn lowercase_method_is_501(cx: &Ctx) -> CheckResult {
    for (method, path) in [("get", "/plaintext"), ("post", "/users"), ("Get", "/")] {
        let resp = cx
            .raw(
                &cx.main,
                get_request(&cx.main, method, path, &[]).as_bytes(),
            )
            .await?
            .response()?;
        expect_unknown_method_501(cx, &resp)?;
    }
    Ok(())
}
