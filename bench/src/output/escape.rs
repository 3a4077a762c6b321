//! Making text that a server, a command or the machine controls safe where it is written: for
//! HTML (the page, the charts, the code links) and for a Markdown table cell or list item.
//! A leaf: every other output module may use it, it uses none of them.

/// Text made safe inside HTML and its attributes: the one escaping every page part uses.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Text made safe for a Markdown table cell or list item: one line, no `|` (a column break)
/// or backtick (a code span), at most 200 characters.
pub fn markdown_cell(text: &str) -> String {
    let line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "/")
        .replace('`', "'");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_cannot_break_a_table() {
        assert_eq!(markdown_cell("body \"a|b\"\n `x`"), "body \"a/b\" 'x'");
        let long = markdown_cell(&"é".repeat(300));
        assert_eq!(long.chars().count(), 201);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn markup_is_escaped_in_html() {
        assert_eq!(
            html("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
