//! Rendering a report for people and programs: its four files, the terminal's tables, one
//! table model rendered to the terminal, Markdown and HTML, the page's charts and its links
//! to adapter code, and the escaping all of them use. Reads the report model and the
//! workspace's facts; measures nothing.

pub mod charts;
pub mod code_links;
pub mod escape;
pub mod files;
pub mod prose;
pub mod quoted;
pub mod report_csv;
pub mod report_html;
pub mod report_md;
pub mod report_tables;
pub mod table;
pub mod terminal;
