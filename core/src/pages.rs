//! The HTML the site renders itself (the hello page, user and account pages, error pages):
//! one layout that shares the static `style.css`, and HTML escaping of everything inserted.

use std::fmt::Write;

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

/// Wraps `body` (already HTML) in the site's layout; `title` is escaped here.
pub fn layout(title: &str, body: &str) -> String {
    let mut page = String::with_capacity(body.len() + 512);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · sitebench</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n\
         <link rel=\"icon\" href=\"/favicon.svg\">\n</head>\n<body>\n<main>\n{}\n\
         <p><a href=\"/\">Back to the home page</a></p>\n</main>\n</body>\n</html>\n",
        escape(title),
        body
    );
    page
}

pub fn hello(name: &str) -> String {
    let name = escape(name);
    layout(
        "Hello",
        &format!(
            "<h1>Hello, {name}!</h1>\n<form method=\"get\" action=\"/hello\">\
             <label>Name <input name=\"name\" maxlength=\"64\" required></label> \
             <button>Greet</button></form>"
        ),
    )
}

pub fn user(username: &str, created_at: &str, admin: bool) -> String {
    let name = escape(username);
    layout(
        username,
        &format!(
            "<h1>{name}</h1>\n<dl><dt>Signed up</dt><dd><time>{}</time></dd>\
             <dt>Admin</dt><dd>{}</dd></dl>\n<p><a href=\"/#login\">Log in</a></p>",
            escape(created_at),
            if admin { "yes" } else { "no" }
        ),
    )
}

pub fn me(username: &str, admin: bool) -> String {
    let name = escape(username);
    let admin_link = if admin {
        "<p><a href=\"/admin\">Admin: list users</a></p>\n"
    } else {
        ""
    };
    layout(
        "Your account",
        &format!(
            "<h1>Signed in as {name}</h1>\n{admin_link}\
             <form method=\"post\" action=\"/logout\"><button>Log out</button></form>"
        ),
    )
}

/// An error page; a form's broken rules (the problem's `errors`) are listed under the detail.
pub fn error(status: u16, title: &str, detail: &str, errors: &[(&str, &str)]) -> String {
    let mut body = format!(
        "<h1>{status} {}</h1>\n<p>{}</p>",
        escape(title),
        escape(detail)
    );
    if !errors.is_empty() {
        body.push_str("\n<ul>");
        for (field, message) in errors {
            let _ = write!(
                body,
                "<li><b>{}</b>: {}</li>",
                escape(field),
                escape(message)
            );
        }
        body.push_str("</ul>");
    }
    layout(title, &body)
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
        let page = error(404, "Not <Found>", "a & b", &[]);
        assert!(page.contains("404 Not &lt;Found&gt;") && page.contains("a &amp; b"));
        assert!(!page.contains("<ul>"));
        let page = error(
            422,
            "Unprocessable Content",
            "see errors",
            &[("username", "must be <3")],
        );
        assert!(page.contains("<li><b>username</b>: must be &lt;3</li>"));
    }
}
