//! The browser flows: what a student does on the site, each step checked on the page the
//! browser shows (its address, its heading, its text), not on the HTTP underneath.

use futures_util::future::BoxFuture;
use serde_json::Value;
use site_core::status_codes;

use super::Flow;
use super::webdriver::{ENTER, Result, TAB};
use crate::checks::support::framework_reason;

const PASSWORD: &str = "browser-password-1";

impl Flow<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.env.base_url)
    }

    async fn goto(&self, path: &str) -> Result<()> {
        self.browser.goto(&self.url(path)).await
    }

    /// Expects the browser at `path` (after redirects).
    async fn expect_at(&self, path: &str) -> Result<()> {
        let url = self.browser.current_url().await?;
        ensure_that(url == self.url(path), || {
            format!("expected to be at {path}, the browser is at {url}")
        })
    }

    async fn h1(&self) -> Result<String> {
        self.browser.text("h1").await
    }

    async fn expect_heading(&self, heading: &str) -> Result<()> {
        let got = self.h1().await?;
        ensure_that(got == heading, || {
            format!("expected the page headed {heading:?}, got {got:?}")
        })
    }

    /// The home page's login form, submitted.
    async fn log_in_with_form(&self, username: &str, password: &str) -> Result<()> {
        self.goto("/").await?;
        self.browser.fill("#li-user", username).await?;
        self.browser.fill("#li-pass", password).await?;
        self.browser.follow("#login button[type=submit]").await
    }

    /// Signs `username` up over plain HTTP (the flows that are not about signing up).
    async fn sign_up_over_http(&self, username: &str) -> Result<()> {
        let response = reqwest::Client::new()
            .post(self.url("/users"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({ "username": username, "password": PASSWORD }).to_string())
            .send()
            .await
            .map_err(|e| format!("sign-up of {username}: {e}"))?;
        ensure_that(response.status() == 201, || {
            format!("sign-up of {username}: {}", response.status())
        })
    }

    /// JavaScript is on exactly when the flow asked for it: app.js adds the inspector's
    /// buttons to the home page's forms.
    async fn expect_javascript_as_asked(&self) -> Result<()> {
        let buttons = self.browser.find_all("button.inspect").await?.len();
        ensure_that((buttons > 0) == self.javascript, || {
            format!(
                "JavaScript should be {}, yet app.js added {buttons} inspector buttons",
                if self.javascript { "on" } else { "off" }
            )
        })
    }

    /// Everything the page loads comes from its own origin: no fonts, scripts, styles or
    /// images from elsewhere (the site works offline, and tells no third party who reads it).
    async fn expect_no_outside_resources(&self, name: &str) -> Result<()> {
        let outside = self
            .browser
            .script(
                "var here = location.origin;
                 var loaded = performance.getEntriesByType('resource').map(function (e) { return e.name; });
                 var declared = Array.prototype.map.call(
                   document.querySelectorAll('script[src], link[href], img[src], iframe[src], source[src]'),
                   function (e) { return e.src || e.href; });
                 return loaded.concat(declared).filter(function (url) {
                   return url.indexOf(here + '/') !== 0;
                 });",
            )
            .await?;
        ensure_that(outside.as_array().is_some_and(Vec::is_empty), || {
            format!("{name} loads from outside its origin: {outside}")
        })
    }

    /// The page at the current viewport: no sideways scrolling, a screenshot, and axe-core
    /// (with JavaScript on).
    async fn audit(&self, name: &str, width: u32) -> Result<()> {
        let fit = self
            .browser
            .script("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await?;
        let (scroll, inner) = (fit[0].as_u64().unwrap_or(0), fit[1].as_u64().unwrap_or(0));
        self.expect_no_outside_resources(name).await?;
        let mode = if self.javascript { "" } else { "-no-js" };
        let shot = self.env.shots.join(format!("{name}-{width}{mode}.png"));
        self.browser.screenshot(&shot).await?;
        ensure_that(inner == u64::from(width) && scroll <= inner, || {
            format!(
                "{name} at {width} px scrolls sideways: scrollWidth {scroll} > innerWidth {inner} (see {})",
                shot.display()
            )
        })?;
        // axe-core is a script that needs timers, which Chromium does not run for a page whose
        // scripts are switched off; the markup is the same, bar what app.js adds.
        if self.javascript {
            self.axe(name, width).await?;
        }
        Ok(())
    }

    /// axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules on the page as it is now, and its
    /// best practices (heading order, landmarks, one `h1`), which the WCAG tags leave out.
    async fn axe(&self, name: &str, width: u32) -> Result<()> {
        let loaded = self
            .browser
            .script(&format!("{}\n;return typeof axe;", self.env.axe))
            .await?;
        ensure_that(loaded == "object", || {
            format!("axe-core did not load: typeof axe is {loaded}")
        })?;
        let violations = self
            .browser
            .script_async(
                "var done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values:
                     ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'] },
                     resultTypes: ['violations'] })
                   .then(function (r) { done(r.violations.map(function (v) {
                     return v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(function (n) {
                       return n.target.join(' ');
                     }).join(', ');
                   })); })
                   .catch(function (e) { done(['axe failed: ' + e]); });",
            )
            .await?;
        let violations: Vec<&str> = violations
            .as_array()
            .map(|all| all.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        ensure_that(violations.is_empty(), || {
            format!(
                "axe-core on {name} at {width} px: {}",
                violations.join("; ")
            )
        })
    }
}

fn ensure_that(ok: bool, why: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(why()) }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// Sign up, log in, `/me`, log out, the 401 page, and logging in again from that page.
pub(super) fn account<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let name = unique("br");
        f.goto("/").await?;
        f.expect_javascript_as_asked().await?;
        f.browser.fill("#su-user", &name).await?;
        f.browser.fill("#su-pass", PASSWORD).await?;
        f.browser.follow("#signup button[type=submit]").await?;
        f.expect_at(&format!("/users/{name}")).await?;
        ensure_that(f.h1().await? == name, || {
            format!("the user page's heading is not {name}")
        })?;

        f.log_in_with_form(&name, PASSWORD).await?;
        f.expect_at("/me").await?;
        let heading = f.h1().await?;
        ensure_that(heading == format!("Signed in as {name}"), || {
            format!("/me after logging in says {heading:?}")
        })?;

        f.browser
            .follow("main form[action='/logout'] button[type=submit]")
            .await?;
        f.expect_at("/").await?;
        f.goto("/me").await?;
        let heading = f.h1().await?;
        ensure_that(heading == "401 Unauthorized", || {
            format!("/me after logging out: heading {heading:?}, not the 401 page")
        })?;
        let next = f.browser.text(".next").await?;
        ensure_that(next.contains("Log in"), || {
            format!("the 401 page offers no login: {next:?}")
        })?;

        // The 401 page's own form logs in, and leads to /me.
        f.browser.fill(".next #li-user", &name).await?;
        f.browser.fill(".next #li-pass", PASSWORD).await?;
        f.browser.follow(".next button[type=submit]").await?;
        f.expect_at("/me").await?;
        let heading = f.h1().await?;
        ensure_that(heading == format!("Signed in as {name}"), || {
            format!("logging in from the 401 page led to {heading:?}")
        })
    })
}

/// A wrong password: the 401 problem as a page, with the problem's title and detail.
pub(super) fn wrong_password<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let name = unique("bw");
        f.sign_up_over_http(&name).await?;
        f.log_in_with_form(&name, "not-the-password").await?;
        f.expect_at("/login").await?;
        let heading = f.h1().await?;
        ensure_that(heading == "401 Unauthorized", || {
            format!("heading {heading:?}")
        })?;
        let lead = f.browser.text("main .lead").await?;
        ensure_that(lead == "The username or password is wrong.", || {
            format!("the 401 page's detail is {lead:?}")
        })?;
        f.browser
            .find(".next form[action='/login']")
            .await
            .map(drop)
    })
}

/// Five failed logins, then the sixth gets the 429 page saying how long to wait.
pub(super) fn throttled<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let name = unique("bt");
        f.sign_up_over_http(&name).await?;
        for attempt in 1..=5 {
            f.log_in_with_form(&name, "not-the-password").await?;
            let heading = f.h1().await?;
            ensure_that(heading == "401 Unauthorized", || {
                format!("failed login {attempt}: heading {heading:?}")
            })?;
        }
        f.log_in_with_form(&name, PASSWORD).await?;
        let heading = f.h1().await?;
        ensure_that(heading == "429 Too Many Requests", || {
            format!("the sixth login (right password) gave {heading:?}, not the 429 page")
        })?;
        // The wait the page names is the Retry-After the throttle set: at most its 60 s window.
        let wait = f.browser.text(".next strong").await?;
        let seconds: Option<u32> = wait.strip_suffix(" seconds").and_then(|n| n.parse().ok());
        ensure_that(seconds.is_some_and(|s| (1..=60).contains(&s)), || {
            format!("the 429 page says to wait {wait:?}, not 1 to 60 seconds")
        })?;
        f.audit("429-throttled", 1280).await
    })
}

/// The explorer lists every code of the core's table with its phrase and meaning, and each
/// code can be tried: followed as a link, and (with JavaScript) shown in the inspector.
pub(super) fn status_explorer<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        f.goto("/status-codes/").await?;
        let rows = f
            .browser
            .script(
                "return Array.prototype.map.call(document.querySelectorAll('tr[id^=code-]'), \
                 function (tr) { return [tr.id, tr.cells[1].textContent, tr.cells[2].textContent, \
                 tr.querySelector('a').getAttribute('href')]; });",
            )
            .await?;
        let rows = rows.as_array().cloned().unwrap_or_default();
        let codes: Vec<u16> = status_codes::named_codes().collect();
        ensure_that(rows.len() == codes.len(), || {
            format!(
                "the explorer lists {} codes; the table has {}",
                rows.len(),
                codes.len()
            )
        })?;
        for (row, code) in rows.iter().zip(&codes) {
            let expected = [
                format!("code-{code}"),
                status_codes::reason_phrase(*code)
                    .unwrap_or_default()
                    .to_owned(),
                status_codes::meaning(*code).to_owned(),
                format!("/status/{code}"),
            ];
            ensure_that(
                row.as_array()
                    .is_some_and(|cells| cells.iter().zip(&expected).all(|(a, b)| a == b.as_str())),
                || format!("explorer row {row} should be {expected:?}"),
            )?;
        }
        if f.javascript {
            // Every code tried from the page, as its link would (redirects not followed):
            // the status, and the reason phrase the status line carries.
            let answers = f
                .browser
                .script_async(
                    "var done = arguments[arguments.length - 1];
                     var links = document.querySelectorAll('tr[id^=code-] a');
                     Promise.all(Array.prototype.map.call(links, function (a) {
                       return fetch(a.href, { redirect: 'manual', cache: 'no-store' })
                         .then(function (r) { return [a.textContent, r.type, r.status, r.statusText]; },
                               function (e) { return [a.textContent, 'error', 0, String(e)]; });
                     })).then(done, function (e) { done(String(e)); });",
                )
                .await?;
            let Some(answers) = answers.as_array() else {
                return Err(format!(
                    "fetching every code from the explorer failed: {answers}"
                ));
            };
            ensure_that(answers.len() == codes.len(), || {
                format!("fetching every code from the explorer gave {answers:?}")
            })?;
            // A backend that declares CanonicalReasonPhrase writes its framework's phrases.
            let canonical = f
                .env
                .deviations
                .contains(&site_core::Deviation::CanonicalReasonPhrase);
            // One that declares FrameworkStatusTable, its framework's, and 500 for a code the
            // framework cannot send.
            let framework_table = f
                .env
                .deviations
                .contains(&site_core::Deviation::FrameworkStatusTable);
            for (answer, code) in answers.iter().zip(&codes) {
                let mut status = if *code < 200 { 400 } else { *code };
                if framework_table && framework_reason(status).is_none() {
                    status = 500;
                }
                let phrase = if canonical {
                    http::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or_default()
                } else if framework_table {
                    framework_reason(status).unwrap_or_default()
                } else {
                    status_codes::reason_phrase(status).unwrap_or_default()
                };
                let redirect = matches!(code, 301 | 302 | 303 | 307 | 308);
                let ok = if redirect {
                    answer[1] == "opaqueredirect"
                } else if *code == 407 {
                    // Chromium refuses a 407 from anything but its proxy
                    // (ERR_UNEXPECTED_PROXY_AUTH); the explorer says so.
                    answer[1] == "error"
                } else {
                    answer[2] == status && answer[3] == phrase
                };
                ensure_that(ok, || {
                    format!("trying {code} from the explorer gave {answer}, not {status} {phrase}")
                })?;
            }
            f.browser.click("#code-418 button.inspect").await?;
            f.browser
                .wait_for_text("#inspector .exchange", "HTTP/1.1 418 I'm a teapot")
                .await?;
            f.browser
                .screenshot(&f.env.shots.join("status-codes-inspected-1280.png"))
                .await?;
        }
        f.browser.follow("#code-404 a").await?;
        f.expect_at("/status/404").await?;
        let heading = f.h1().await?;
        ensure_that(heading == "404 Not Found", || {
            format!("/status/404 heading {heading:?}")
        })?;
        let lead = f.browser.text("main .lead").await?;
        ensure_that(lead == status_codes::meaning(404), || {
            format!(
                "/status/404 explains 404 as {lead:?}, the explorer as {:?}",
                status_codes::meaning(404)
            )
        })?;
        f.goto("/teapot").await?;
        let lead = f.browser.text("main .lead").await?;
        ensure_that(lead == status_codes::meaning(418), || {
            format!(
                "/teapot explains 418 as {lead:?}, the explorer as {:?}",
                status_codes::meaning(418)
            )
        })?;
        if f.javascript {
            // The home page's form builds /status/{code}, which a plain GET form cannot.
            f.goto("/").await?;
            f.browser.fill("#status-code", "503").await?;
            f.browser.follow("#status-form button[type=submit]").await?;
            let heading = f.h1().await?;
            ensure_that(heading == "503 Service Unavailable", || {
                format!("the status form led to {heading:?}")
            })?;
        }
        Ok(())
    })
}

/// The inspector on the home page's login form: the request, the redirect the browser
/// followed, the response with its headers and pretty JSON, and the curl command.
pub(super) fn inspector<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let name = unique("bi");
        f.sign_up_over_http(&name).await?;
        f.goto("/").await?;
        f.browser.fill("#li-user", &name).await?;
        f.browser.fill("#li-pass", PASSWORD).await?;
        f.browser.click("#login button.inspect").await?;
        let shown = f
            .browser
            .wait_for_text("#inspector .exchange", "HTTP/1.1 200 OK")
            .await?;
        f.expect_at("/").await?;
        let origin = &f.env.base_url;
        for wanted in [
            "POST /login HTTP/1.1".to_owned(),
            "Content-Type: application/x-www-form-urlencoded".to_owned(),
            format!("username={name}&password={PASSWORD}"),
            "The server answered with a redirect (a 3xx status)".to_owned(),
            "Response to GET /me".to_owned(),
            "cache-control: no-store".to_owned(),
            format!("\"username\": \"{name}\""),
            format!(
                "curl -i -b jar -c jar -H 'Content-Type: application/x-www-form-urlencoded' \
                 -H 'Accept: application/json' --data-raw 'username={name}&password={PASSWORD}' '{origin}/login'"
            ),
        ] {
            ensure_that(shown.contains(&wanted), || {
                format!("the inspector does not show {wanted:?}; it shows:\n{shown}")
            })?;
        }
        let summary = f.browser.text("#inspector .summary").await?;
        ensure_that(
            summary.starts_with("POST /login: 200 OK after a redirect, in ")
                && summary.ends_with(" ms."),
            || format!("the inspector's summary line says {summary:?}"),
        )?;
        f.browser
            .screenshot(&f.env.shots.join("inspector-after-login-1280.png"))
            .await?;
        f.axe("the home page with the inspector open", 1280).await?;
        // The login the inspector sent is real: the browser now has the session.
        f.goto("/me").await?;
        let heading = f.h1().await?;
        ensure_that(heading == format!("Signed in as {name}"), || {
            format!("/me after the inspected login says {heading:?}")
        })
    })
}

/// Every page, at 390 and 1280 px: the right page (by its heading), fits, screenshot, and
/// axe-core (with JavaScript on); at 1280 px a few pages again in the dark colour scheme.
/// Error pages are reached as a browser reaches them; curl examples name the page's own
/// origin when JavaScript runs.
pub(super) fn every_page<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let name = unique("bp");
        f.sign_up_over_http(&name).await?;
        let user = format!("/users/{name}");
        let panic_path = super::PANIC_PATH;
        // (screenshot name, path, the page's heading)
        let pages: [(&str, &str, &str); 12] = [
            ("home", "/", "One site, many frameworks"),
            ("guide", "/guide/", "GET vs POST"),
            ("status-codes", "/status-codes/", "Status codes"),
            ("hello", "/hello?name=Ada", "Hello, Ada!"),
            ("user", &user, &name),
            ("400", "/hello?name=", "400 Bad Request"),
            ("404", "/no-such-page", "404 Not Found"),
            ("418", "/teapot", "418 I'm a teapot"),
            ("429-asked", "/status/429", "429 Too Many Requests"),
            ("500", panic_path, "500 Internal Server Error"),
            ("503-asked", "/status/503", "503 Service Unavailable"),
            ("401", "/me", "401 Unauthorized"),
        ];
        for width in [390, 1280] {
            f.browser
                .viewport(width, if width < 600 { 844 } else { 900 })
                .await?;
            for (page, path, heading) in pages {
                f.goto(path).await?;
                f.expect_heading(heading).await?;
                f.audit(page, width).await?;
            }
            // Signed in: /me, and /admin as a non-admin (403).
            f.log_in_with_form(&name, PASSWORD).await?;
            f.expect_heading(&format!("Signed in as {name}")).await?;
            f.audit("me", width).await?;
            f.goto("/admin").await?;
            f.expect_heading("403 Forbidden").await?;
            f.audit("403", width).await?;
            // A form with broken rules: the 422 page lists them; a name taken: 409.
            f.goto("/").await?;
            f.browser.fill("#su-user", "x").await?;
            f.browser.fill("#su-pass", "y").await?;
            f.browser.follow("#signup button[type=submit]").await?;
            f.expect_heading("422 Unprocessable Content").await?;
            let errors = f.browser.find_all("main ul.errors li").await?.len();
            ensure_that(errors >= 2, || {
                format!("the 422 page lists {errors} broken rules")
            })?;
            f.audit("422", width).await?;
            f.goto("/").await?;
            f.browser.fill("#su-user", &name).await?;
            f.browser.fill("#su-pass", PASSWORD).await?;
            f.browser.follow("#signup button[type=submit]").await?;
            f.expect_heading("409 Conflict").await?;
            f.audit("409", width).await?;
            f.goto("/").await?;
            f.browser
                .follow("main form[action='/logout'] button[type=submit]")
                .await?;
        }
        // An admin's /me links to the list of users.
        f.sign_up_over_http(super::ADMIN).await.or_else(|why| {
            if why.contains("409") {
                Ok(())
            } else {
                Err(why)
            }
        })?;
        f.log_in_with_form(super::ADMIN, PASSWORD).await?;
        f.browser.find("main a[href='/admin']").await?;
        f.audit("me-admin", 1280).await?;
        // The dark colour scheme (prefers-color-scheme) has its own colours to check.
        f.browser
            .devtools(
                "Emulation.setEmulatedMedia",
                serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }),
            )
            .await?;
        for (page, path, heading) in [
            ("home-dark", "/", "One site, many frameworks"),
            ("guide-dark", "/guide/", "GET vs POST"),
            ("status-codes-dark", "/status-codes/", "Status codes"),
            ("404-dark", "/no-such-page", "404 Not Found"),
        ] {
            f.goto(path).await?;
            f.expect_heading(heading).await?;
            f.audit(page, 1280).await?;
        }
        f.goto("/guide/").await?;
        let examples = f.browser.text("main").await?;
        let origin_shown = examples.contains(&format!("curl -I {}/style.css", f.env.base_url));
        ensure_that(origin_shown == f.javascript, || {
            format!(
                "the guide's curl examples should name {} {}",
                f.env.base_url,
                if f.javascript {
                    "(app.js rewrites them)"
                } else {
                    "only with JavaScript"
                }
            )
        })?;
        let footer = f.browser.text("footer").await?;
        let named = footer.contains(&format!("served by sitebench-{}", f.env.backend));
        ensure_that(named == f.javascript, || {
            format!("the footer says {footer:?}")
        })
    })
}

/// The audit itself can fail: a page spoiled on purpose (an image without a text
/// alternative, an unlabelled field, a box wider than the phone, a stylesheet from another
/// origin) must fail each check.
pub(super) fn audit_catches_a_spoiled_page<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        f.browser.viewport(390, 844).await?;
        f.goto("/guide/").await?;
        f.browser
            .script(
                "var main = document.querySelector('main');
                 main.insertAdjacentHTML('afterbegin',
                   '<img src=\"/favicon.svg\"><input type=\"text\"><div style=\"width:900px\">wide</div>');
                 return true;",
            )
            .await?;
        let Err(why) = f.audit("spoiled-guide", 390).await else {
            return Err("a 900 px wide box at 390 px passed the fit check".into());
        };
        ensure_that(why.contains("scrolls sideways"), || {
            format!("the fit check said {why:?}")
        })?;
        let Err(why) = f.axe("the spoiled guide", 390).await else {
            return Err("axe-core found nothing wrong with an image without alt text".into());
        };
        ensure_that(why.contains("image-alt") && why.contains("label"), || {
            format!("axe-core should name image-alt and label, it said {why:?}")
        })?;
        // Another origin, on loopback so that nothing leaves the machine (nothing listens).
        f.browser
            .script(
                "document.head.insertAdjacentHTML('beforeend',
                   '<link rel=\"stylesheet\" href=\"http://127.0.0.2:9/outside.css\">');
                 return true;",
            )
            .await?;
        let Err(why) = f.expect_no_outside_resources("the spoiled guide").await else {
            return Err("a stylesheet from another origin passed the resource check".into());
        };
        ensure_that(why.contains("127.0.0.2:9/outside.css"), || {
            format!("the resource check said {why:?}")
        })
    })
}

/// The keyboard alone: Tab first reaches the skip link, which moves to the content; in the
/// login form Tab goes from the username to the password, and Enter submits.
pub(super) fn keyboard<'a>(f: &'a Flow<'a>) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let name = unique("bk");
        f.sign_up_over_http(&name).await?;
        f.goto("/").await?;
        f.browser.press(&TAB.to_string()).await?;
        let focused = f
            .browser
            .script(
                "var e = document.activeElement, box = e.getBoundingClientRect();
                 return [e.className, box.left >= 0 && box.width > 0];",
            )
            .await?;
        ensure_that(focused[0] == "skip" && focused[1] == true, || {
            format!("the first Tab should show the skip link; focus and visibility: {focused}")
        })?;
        f.browser.press(&ENTER.to_string()).await?;
        let url = f.browser.current_url().await?;
        ensure_that(url.ends_with("/#main"), || {
            format!("the skip link led to {url}")
        })?;
        f.browser.press(&TAB.to_string()).await?;
        let inside = f
            .browser
            .script("return document.querySelector('main').contains(document.activeElement);")
            .await?;
        ensure_that(inside == true, || {
            "after the skip link, Tab should move to the content, not the header".to_owned()
        })?;

        f.browser.fill("#li-user", &name).await?;
        f.browser.press(&TAB.to_string()).await?;
        let focused = f
            .browser
            .script("return document.activeElement.id;")
            .await?;
        ensure_that(focused == "li-pass", || {
            format!("Tab from the username went to {focused}, not the password")
        })?;
        f.browser.press(&format!("{PASSWORD}{ENTER}")).await?;
        f.browser
            .wait_for_text("h1", &format!("Signed in as {name}"))
            .await?;
        f.expect_at("/me").await
    })
}
