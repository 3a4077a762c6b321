//! The HTML the site renders itself (the hello page, user and account pages, error
//! pages, and the status-code explorer written to `static/status-codes/index.html`): one
//! layout with the same header, navigation and footer as the static pages (a test keeps them
//! identical), and HTML escaping of everything inserted. Every error page says what to do
//! next, because a student who meets a 401 or a 429 in a browser should not be stuck there.

use std::fmt::Write;

use crate::status_codes;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The top of every page's `<body>`, static pages included (byte for byte: a test compares).
pub const HEADER: &str = r##"<a class="skip" href="#main">Skip to the content</a>
<header>
  <p class="brand"><a href="/"><img src="/favicon.svg" alt="" width="28" height="28"> sitebench</a></p>
  <nav aria-label="Site"><a href="/">Home</a> <a href="/guide/">GET vs POST</a> <a href="/status-codes/">Status codes</a> <a href="/me">Your account</a> <a href="/openapi.json">API</a></nav>
</header>"##;

/// The bottom of every page's `<body>`; `app.js` fills in the backend that served the page
/// (from the `Server` header), which a static file cannot know.
pub const FOOTER: &str = r#"<footer>
  <p>sitebench: one site on many frameworks, behind one contract.
    <span id="served-by"></span></p>
</footer>"#;

/// Wraps `body` (already HTML) in the site's layout; `title` is escaped here.
pub fn layout(title: &str, body: &str) -> String {
    let mut page = String::with_capacity(body.len() + 1536);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · sitebench</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n\
         <link rel=\"icon\" href=\"/favicon.svg\">\n\
         <script src=\"/app.js\" defer></script>\n</head>\n<body>\n{HEADER}\n\
         <main id=\"main\">\n{body}\n</main>\n{FOOTER}\n</body>\n</html>\n",
        escape(title),
    );
    page
}

/// The login form, as on the home page; on a 401 page it is the way on.
fn login_form() -> &'static str {
    r#"<form method="post" action="/login" class="card">
<h3>Log in <small><code>POST /login</code></small></h3>
<label for="li-user">Username</label>
<input id="li-user" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false">
<label for="li-pass">Password</label>
<input id="li-pass" name="password" type="password" autocomplete="current-password">
<p class="hint">No account yet? <a href="/#signup">Sign up on the home page</a>.</p>
<button type="submit">Log in</button>
</form>"#
}

pub fn hello(name: &str) -> String {
    let name = escape(name);
    layout(
        "Hello",
        &format!(
            "<h1>Hello, {name}!</h1>\n\
             <p class=\"lead\">The name came in the query string of a <code>GET</code> request.</p>\n\
             <form method=\"get\" action=\"/hello\" class=\"card\">\
             <label for=\"hello-name\">Name</label>\
             <div class=\"row\"><input id=\"hello-name\" name=\"name\" maxlength=\"64\" required>\
             <button type=\"submit\">Greet</button></div>\
             <p class=\"hint\">Up to 64 characters; an empty name gives <code>400</code>.</p></form>"
        ),
    )
}

pub fn user(username: &str, created_at: &str, admin: bool) -> String {
    let name = escape(username);
    layout(
        username,
        &format!(
            "<h1>{name}</h1>\n<p class=\"lead\">A public user record: anyone may read it, \
             as HTML here or as JSON with <code>Accept: application/json</code>.</p>\n\
             <dl><dt>Signed up</dt><dd><time datetime=\"{created}\">{created}</time></dd>\
             <dt>Admin</dt><dd>{}</dd></dl>\n\
             <p><a href=\"/me\">Your account</a> · <a href=\"/#login\">Log in</a></p>",
            if admin { "yes" } else { "no" },
            created = escape(created_at),
        ),
    )
}

pub fn me(username: &str, admin: bool) -> String {
    let name = escape(username);
    let admin_link = if admin {
        "<li><a href=\"/admin\">Admin: the list of users</a> (JSON)</li>"
    } else {
        ""
    };
    layout(
        "Your account",
        &format!(
            "<h1>Signed in as {name}</h1>\n\
             <p class=\"lead\">Your browser sends the <code>sitebench_session</code> cookie with \
             every request; this page is personal, so it says <code>Cache-Control: \
             no-store</code>.</p>\n\
             <ul><li><a href=\"/users/{name}\">Your public record</a></li>{admin_link}</ul>\n\
             <form method=\"post\" action=\"/logout\" class=\"card\">\
             <h2>Log out <small><code>POST /logout</code></small></h2>\
             <p class=\"hint\">Deletes the session on the server and clears the cookie.</p>\
             <button type=\"submit\">Log out</button></form>"
        ),
    )
}

/// What an error page needs besides status, title and detail: the problem's `errors`, and
/// the headers that tell a browser user what to do next.
#[derive(Debug, Default)]
pub struct ErrorContext<'a> {
    pub errors: Vec<(&'a str, &'a str)>,
    /// `Retry-After`, in seconds (429, 503).
    pub retry_after: Option<&'a str>,
    /// `Allow` (405).
    pub allow: Option<&'a str>,
    /// The status was asked for (`/status/{code}`) rather than met.
    pub demonstration: bool,
    /// The cause's own advice (HTML), where the status's usual one would mislead.
    pub next_step: Option<&'a str>,
}

/// An error page: the status, what it means, the form's broken rules, and what to do next.
pub fn error(status: u16, title: &str, detail: &str, context: &ErrorContext<'_>) -> String {
    let mut body = format!(
        "<h1><span class=\"status-code\">{status}</span> {}</h1>\n<p class=\"lead\">{}</p>",
        escape(title),
        escape(detail)
    );
    if !context.errors.is_empty() {
        body.push_str("\n<ul class=\"errors\">");
        for (field, message) in &context.errors {
            let _ = write!(
                body,
                "<li><b>{}</b>: {}</li>",
                escape(field),
                escape(message)
            );
        }
        body.push_str("</ul>");
    }
    let _ = write!(
        body,
        "\n<section class=\"next\" aria-labelledby=\"next\"><h2 id=\"next\">What now?</h2>\n{}\n</section>",
        next_step(status, context)
    );
    // The code's meaning, unless the detail above already said it (`/status/{code}`).
    let meaning = status_codes::meaning(status);
    let meaning = if meaning == detail {
        String::new()
    } else {
        format!("{status} means: {} ", escape(meaning))
    };
    let anchor = if status_codes::reason_phrase(status).is_some() {
        format!("code-{status}")
    } else {
        format!("class-{}xx", status / 100)
    };
    let _ = write!(
        body,
        "\n<p class=\"hint\">{meaning}A client that asks for JSON gets this error as \
         <code>application/problem+json</code> (RFC 9457). \
         <a href=\"/status-codes/#{anchor}\">{status} in the list of status codes</a>.</p>",
    );
    layout(&format!("{status} {title}"), &body)
}

/// The way on from an error page, by status.
fn next_step(status: u16, context: &ErrorContext<'_>) -> String {
    let home =
        "<p><a href=\"/\">Go to the home page</a>, which links to every page of the site.</p>";
    if let Some(html) = context.next_step {
        return html.to_owned();
    }
    if context.demonstration {
        let retry = context.retry_after.map_or_else(String::new, |secs| {
            format!(
                " A real {status} would carry the same <code>Retry-After: {}</code> header, \
                 saying how many seconds to wait.",
                escape(secs)
            )
        });
        return format!(
            "<p>Nothing went wrong: you asked for this status with \
             <code>/status/{status}</code>.{retry} \
             <a href=\"/status-codes/\">Try another code</a>.</p>"
        );
    }
    match status {
        401 => format!(
            "<p>Log in, and your browser will send the session cookie from then on.</p>\n{}",
            login_form()
        ),
        403 => "<p>Logging in will not change this answer, unless as a user who has the \
                right (the list of users is for admins). \
                <a href=\"/me\">See who you are signed in as</a>, or \
                <a href=\"/#login\">log in as another user</a>.</p>"
            .to_owned(),
        404 => format!(
            "<p>Check the address for typing mistakes.</p>\n{home}\n\
             <p>Or read the <a href=\"/guide/\">GET vs POST guide</a>.</p>"
        ),
        405 => format!(
            "<p>This path answers only {}. A link or the address bar sends <code>GET</code>; \
             a form can send <code>POST</code>.</p>\n{home}",
            context.allow.map_or_else(
                || "other methods".to_owned(),
                |allow| format!("<code>{}</code>", escape(allow))
            )
        ),
        409 => "<p>That username belongs to someone else: \
                <a href=\"/#signup\">sign up with another one</a>, or \
                <a href=\"/#login\">log in</a> if it is yours.</p>"
            .to_owned(),
        422 => "<p>Correct what is listed above and send the form again; the forms are on \
                <a href=\"/#forms\">the home page</a>.</p>"
            .to_owned(),
        400 | 413 | 415 => "<p>Go back and correct what you sent (the sentence above says \
                what is wrong); the forms are on <a href=\"/#forms\">the home page</a>.</p>"
            .to_owned(),
        501 => "<p>This site implements only <code>GET</code>, <code>HEAD</code> and \
                <code>POST</code>. A browser sends nothing else; <code>curl -X</code> can. \
                The <a href=\"/guide/\">guide</a> says which method does what.</p>"
            .to_owned(),
        418 => "<p>Ask for tea instead: <a href=\"/status-codes/\">the list of status codes</a> \
                has codes that brew something.</p>"
            .to_owned(),
        429 | 503 => {
            let wait = context.retry_after.map_or_else(
                || "a little while".to_owned(),
                |secs| match secs {
                    "1" => "1 second".to_owned(),
                    secs => format!("{} seconds", escape(secs)),
                },
            );
            let then = if status == 429 {
                "then <a href=\"/#login\">try to log in again</a>"
            } else {
                "then <a href=\"/\">try again</a>"
            };
            format!(
                "<p>Wait <strong>{wait}</strong> (the <code>Retry-After</code> header says so), {then}.</p>"
            )
        }
        500..=599 => {
            format!("<p>The fault is the server's, not yours: try again in a moment.</p>\n{home}")
        }
        _ => home.to_owned(),
    }
}

/// The status-code explorer: every code of the catalogue with its phrase and meaning, each a
/// link to `/status/{code}` that `app.js` can also show as an exchange. Written to
/// `static/status-codes/index.html` (a test keeps the file equal to this), so every backend
/// serves it as a static file and `--static-dir` copies keep it.
pub fn status_explorer() -> String {
    let mut body = String::from(
        "<h1>Status codes</h1>\n<p class=\"lead\">Every status code the site knows, with its \
         reason phrase (RFC 9110, plus <code>418</code>) and what it means. Each one can be \
         tried: <code>GET /status/{code}</code> answers with that code.</p>\n\
         <p>The first digit is the class: 1xx informational (never a final answer, so \
         <code>/status/1xx</code> gives <code>400</code>), 2xx success, 3xx go elsewhere, 4xx \
         the client's mistake, 5xx the server's. <code>204</code>, <code>205</code> and \
         <code>304</code> have no body.</p>\n",
    );
    let classes = [
        (1, "1xx Informational"),
        (2, "2xx Success"),
        (3, "3xx Redirection"),
        (4, "4xx Client error"),
        (5, "5xx Server error"),
    ];
    for (class, heading) in classes {
        let _ = write!(
            body,
            "<h2 id=\"class-{class}xx\">{heading}</h2>\n<div class=\"table-wrap\">\
             <table class=\"codes-table\"><thead><tr><th scope=\"col\">Code</th>\
             <th scope=\"col\">Phrase</th><th scope=\"col\">Meaning</th></tr></thead><tbody>\n"
        );
        for code in status_codes::named_codes().filter(|code| code / 100 == class) {
            let phrase = status_codes::reason_phrase(code).unwrap_or_default();
            let _ = writeln!(
                body,
                "<tr id=\"code-{code}\"><td><a href=\"/status/{code}\" data-inspect>{code}</a></td>\
                 <td>{}</td><td>{}</td></tr>",
                escape(phrase),
                escape(status_codes::meaning(code)),
            );
        }
        body.push_str("</tbody></table></div>\n");
    }
    body.push_str(
        "<p>Try a code the table does not name, such as <a href=\"/status/299\">299</a>: its \
         title is <code>Status 299</code> and its status line has an empty reason phrase.</p>\n\
         <p>407 is for proxies: a browser refuses it from a web server and shows an error of \
         its own instead (Chromium: <code>ERR_UNEXPECTED_PROXY_AUTH</code>); \
         <code>curl -i</code> shows what the site sent.</p>\n\
         <p>301 and 308 are permanent: once your browser has followed one, it remembers where \
         it leads and goes there without asking again, until you clear its cache. \
         <code>curl -i</code> asks every time.</p>",
    );
    layout("Status codes", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn pages_escape_what_they_insert() {
        assert!(hello("<b>").contains("Hello, &lt;b&gt;!"));
        let page = error(404, "Not <Found>", "a & b", &ErrorContext::default());
        assert!(page.contains("Not &lt;Found&gt;") && page.contains("a &amp; b"));
        assert!(!page.contains("<ul class=\"errors\">"));
        let context = ErrorContext {
            errors: vec![("username", "must be <3")],
            ..ErrorContext::default()
        };
        let page = error(422, "Unprocessable Content", "see errors", &context);
        assert!(page.contains("<li><b>username</b>: must be &lt;3</li>"));
        assert!(user("<x>", "2026", false).contains("<h1>&lt;x&gt;</h1>"));
    }

    #[test]
    fn error_pages_say_what_to_do_next() {
        let page = |status, context: &ErrorContext<'_>| error(status, "T", "D", context);
        let unauthorized = page(401, &ErrorContext::default());
        assert!(unauthorized.contains("<form method=\"post\" action=\"/login\""));
        assert!(
            page(404, &ErrorContext::default()).contains("<a href=\"/\">Go to the home page</a>")
        );
        let throttled = page(
            429,
            &ErrorContext {
                retry_after: Some("42"),
                ..ErrorContext::default()
            },
        );
        assert!(throttled.contains("Wait <strong>42 seconds</strong>"));
        let not_allowed = page(
            405,
            &ErrorContext {
                allow: Some("GET, HEAD"),
                ..ErrorContext::default()
            },
        );
        assert!(not_allowed.contains("only <code>GET, HEAD</code>"));
        assert!(unauthorized.contains("href=\"/status-codes/#code-401\""));
        let asked = page(
            429,
            &ErrorContext {
                retry_after: Some("1"),
                demonstration: true,
                ..ErrorContext::default()
            },
        );
        assert!(asked.contains("Nothing went wrong") && !asked.contains("log in again"));
    }

    #[test]
    fn every_page_has_the_site_header_and_footer() {
        for page in [
            hello("x"),
            me("x", true),
            user("x", "t", false),
            status_explorer(),
        ] {
            assert!(page.contains(HEADER) && page.contains(FOOTER));
            assert!(page.contains("<main id=\"main\">"));
        }
    }

    /// The static pages carry the same header and footer as the rendered ones: one site look.
    #[test]
    fn static_pages_share_the_header_and_footer() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        for page in ["index.html", "guide/index.html"] {
            let text = std::fs::read_to_string(root.join(page)).expect("a static page");
            assert!(text.contains(HEADER), "{page} lacks pages::HEADER");
            assert!(text.contains(FOOTER), "{page} lacks pages::FOOTER");
        }
    }

    /// The 401 page's login form asks for the same fields, the same way, as the home page's.
    #[test]
    fn the_401_login_form_matches_the_home_page() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let home = std::fs::read_to_string(root.join("index.html")).expect("the home page");
        let fields: Vec<&str> = login_form()
            .lines()
            .filter(|line| line.starts_with("<input") || line.starts_with("<label"))
            .collect();
        assert_eq!(fields.len(), 4);
        for field in fields {
            assert!(
                home.contains(field),
                "the home page's login form lacks {field}"
            );
        }
    }

    /// The guide's table of status codes words each code as the catalogue does: one wording
    /// per code across the site.
    #[test]
    fn the_guide_words_codes_as_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let guide = std::fs::read_to_string(root.join("guide/index.html")).expect("the guide");
        let mut rows = 0;
        for row in guide.split("<tr><td><a href=\"/status/").skip(1) {
            let code: u16 = row[..3].parse().expect("a code");
            let expected = format!(
                "{code}\">{code}</a> {}</td><td>{}</td>",
                status_codes::reason_phrase(code).expect("a named code"),
                escape(status_codes::meaning(code))
            );
            assert!(
                row.starts_with(&expected),
                "the guide's row for {code} is not {expected:?}"
            );
            rows += 1;
        }
        assert!(rows >= 10, "the guide's status table has {rows} rows");
    }

    /// `static/status-codes/index.html` is `status_explorer()`, written out. After a change of
    /// the catalogue or of this module, `SITEBENCH_WRITE_PAGES=1 cargo test -p site-core
    /// status_explorer_file` writes it again.
    #[test]
    fn status_explorer_file_is_up_to_date() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/status-codes/index.html");
        let page = status_explorer();
        if std::env::var_os("SITEBENCH_WRITE_PAGES").is_some() {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, &page).expect("write the explorer");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == page,
            "{} is out of date: run SITEBENCH_WRITE_PAGES=1 cargo test -p site-core status_explorer_file",
            path.display()
        );
        for code in status_codes::named_codes() {
            assert!(page.contains(&format!("id=\"code-{code}\"")), "{code}");
        }
    }
}
