//! The one table model every table of bench is made in (the report's figures and servers,
//! `bench compare`, `bench soak`), and its three renderings: the terminal (aligned columns,
//! the best value marked `*`), Markdown (a pipe table, the best in bold) and HTML (the best in
//! `<b>`, a cell's link to adapter code resolved by the page). A table's builder decides each
//! cell by its column's identity, an enum of the builder's; the renderers see only headings,
//! alignments and cells, so no format reads another's text.

use std::borrow::Cow;
use std::fmt::Write;

use crate::output::escape;

/// Where a column's cells sit: text on the left, figures on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Fixed for the report's tables; a server's name where each server is a column.
    pub heading: Cow<'static, str>,
    pub align: Align,
}

impl Column {
    pub fn new(heading: impl Into<Cow<'static, str>>, align: Align) -> Self {
        Self {
            heading: heading.into(),
            align,
        }
    }
}

/// A run of a cell's text and how it is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Text(String),
    /// A command or a check's name: `` `code` `` in Markdown, `<code>` in HTML.
    Code(String),
    /// What must not be missed (failed checks): `**bold**` in Markdown, `<b>` in HTML.
    Strong(String),
}

/// Adapter code a cell links to on the page, named by what it is, not by where: the page
/// resolves it against the adapters' sources and its own directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRef {
    /// The handler of `scenario` in `backend`'s adapter.
    Handler { backend: String, scenario: String },
    /// `backend`'s route table.
    Routes { backend: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub spans: Vec<Span>,
    /// The best value of its column within its group of rows.
    pub best: bool,
    pub link: Option<CodeRef>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            spans: vec![Span::Text(text.into())],
            ..Self::default()
        }
    }

    pub fn spans(spans: Vec<Span>) -> Self {
        Self {
            spans,
            ..Self::default()
        }
    }

    pub fn best(mut self, best: bool) -> Self {
        self.best = best;
        self
    }

    pub fn linked(mut self, link: CodeRef) -> Self {
        self.link = Some(link);
        self
    }

    /// The text alone, as the terminal shows it (and a link's label).
    pub fn plain(&self) -> String {
        self.spans
            .iter()
            .map(|span| match span {
                Span::Text(t) | Span::Code(t) | Span::Strong(t) => t.as_str(),
            })
            .collect()
    }

    fn markdown(&self) -> String {
        let text: String = self
            .spans
            .iter()
            .map(|span| match span {
                Span::Text(t) => t.clone(),
                Span::Code(t) => format!("`{t}`"),
                Span::Strong(t) => format!("**{t}**"),
            })
            .collect();
        if self.best {
            format!("**{text}**")
        } else {
            text
        }
    }

    fn html(&self) -> String {
        let text: String = self
            .spans
            .iter()
            .map(|span| match span {
                Span::Text(t) => escape::html(t),
                Span::Code(t) => format!("<code>{}</code>", escape::html(t)),
                Span::Strong(t) => format!("<b>{}</b>", escape::html(t)),
            })
            .collect();
        if self.best {
            format!("<b>{text}</b>")
        } else {
            text
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<Column>,
    /// Each row has a cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Self {
        Self {
            columns,
            rows: Vec::new(),
        }
    }

    /// Aligned columns two spaces apart, a rule under the headings, the best marked `*`.
    pub fn terminal(&self) -> String {
        let plain = |cell: &Cell| {
            if cell.best {
                format!("*{}", cell.plain())
            } else {
                cell.plain()
            }
        };
        let mut lines: Vec<Vec<String>> =
            vec![self.columns.iter().map(|c| c.heading.to_string()).collect()];
        lines.extend(self.rows.iter().map(|row| row.iter().map(plain).collect()));
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l.get(c).map_or(0, |cell| cell.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            for (c, cell) in line.iter().enumerate() {
                let pad = " ".repeat(widths[c] - cell.chars().count());
                match self.columns[c].align {
                    Align::Left => {
                        let _ = write!(out, "{cell}{pad}  ");
                    }
                    Align::Right => {
                        let _ = write!(out, "{pad}{cell}  ");
                    }
                }
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
            if i == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len()));
                out.push('\n');
            }
        }
        out
    }

    /// A pipe table, ready to paste into a README.
    pub fn markdown(&self) -> String {
        let headings: Vec<&str> = self.columns.iter().map(|c| c.heading.as_ref()).collect();
        let rule: Vec<&str> = self
            .columns
            .iter()
            .map(|c| match c.align {
                Align::Left => "---",
                Align::Right => "---:",
            })
            .collect();
        let mut out = format!("| {} |\n|{}|\n", headings.join(" | "), rule.join("|"));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(Cell::markdown).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out
    }

    /// The table in a scrolling box; `link` turns a cell's [`CodeRef`] into a link showing
    /// the given label, or says there is none (the cell is then shown as text).
    pub fn html(&self, link: &dyn Fn(&CodeRef, &str) -> Option<String>) -> String {
        let mut out = String::from("<div class=\"scroll\"><table><tr>");
        for column in &self.columns {
            let _ = write!(out, "<th>{}</th>", escape::html(&column.heading));
        }
        out.push_str("</tr>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                let linked = cell.link.as_ref().and_then(|l| link(l, &cell.plain()));
                let _ = write!(out, "<td>{}</td>", linked.unwrap_or_else(|| cell.html()));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table></div>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(vec![
            Column::new("server", Align::Left),
            Column::new("req/s", Align::Right),
        ]);
        table.rows.push(vec![
            Cell::text("axum").linked(CodeRef::Routes {
                backend: "axum".into(),
            }),
            Cell::text("500").best(true),
        ]);
        table.rows.push(vec![
            Cell::spans(vec![
                Span::Text("py (".into()),
                Span::Code("python3 <site>.py".into()),
                Span::Text(")".into()),
            ]),
            Cell::text("90"),
        ]);
        table
    }

    #[test]
    fn one_table_in_three_formats() {
        let table = sample();
        assert_eq!(
            table.terminal(),
            "server                  req/s\n\
             -------------------------------\n\
             axum                     *500\n\
             py (python3 <site>.py)     90\n"
        );
        assert_eq!(
            table.markdown(),
            "| server | req/s |\n|---|---:|\n| axum | **500** |\n| py (`python3 <site>.py`) | 90 |\n"
        );
        let html = table.html(&|link, label| match link {
            CodeRef::Routes { backend } => Some(format!("<a href=\"{backend}\">{label}</a>")),
            CodeRef::Handler { .. } => None,
        });
        assert!(html.contains("<tr><td><a href=\"axum\">axum</a></td><td><b>500</b></td></tr>"));
        assert!(html.contains("<td>py (<code>python3 &lt;site&gt;.py</code>)</td>"));
    }

    #[test]
    fn a_link_the_page_cannot_resolve_leaves_the_text() {
        let html = sample().html(&|_, _| None);
        assert!(html.contains("<tr><td>axum</td>"), "{html}");
    }
}
