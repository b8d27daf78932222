//! The page: one self-contained HTML file (inline CSS and SVG, no scripts, no external
//! requests, enforced by a Content-Security-Policy), sections with their period and
//! reading, charts paired with data tables behind `<details>`, and print CSS for A4.

use std::fmt::Write;

use super::palette::{BLUE, MUTED, PALE, TEXT, WHITE};
use super::svg::HATCH;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// One cell of a data table.
#[derive(Debug, Clone, PartialEq)]
pub enum Td {
    /// A row header (first column).
    Head(String),
    /// Text.
    Text(String),
    /// A number (right-aligned).
    Num(String),
    /// A value hidden by disclosure control.
    Suppressed(String),
    /// No value.
    Empty(String),
}

/// A data table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Unique id within the page.
    pub id: String,
    /// What the table holds.
    pub caption: String,
    /// Column headings.
    pub head: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Td>>,
}

impl Table {
    /// Renders the table, one row per line.
    pub fn render(&self) -> String {
        let mut s = format!(
            "<table id=\"{}\"><caption>{}</caption>\n<thead><tr>",
            esc(&self.id),
            esc(&self.caption)
        );
        for h in &self.head {
            let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            s.push_str("<tr>");
            for cell in row {
                let _ = match cell {
                    Td::Head(t) => write!(s, "<th scope=\"row\">{}</th>", esc(t)),
                    Td::Text(t) => write!(s, "<td>{}</td>", esc(t)),
                    Td::Num(t) => write!(s, "<td class=\"num\">{}</td>", esc(t)),
                    Td::Suppressed(t) => write!(s, "<td class=\"num sup\">{}</td>", esc(t)),
                    Td::Empty(t) => write!(s, "<td class=\"num empty\">{}</td>", esc(t)),
                };
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody></table>\n");
        s
    }
}

/// A chart and its data table (behind a disclosure toggle, for screen readers and anyone
/// who wants the numbers). The only way a section shows a chart.
pub fn chart(caption: &str, svg: &str, table: &Table, note: &str) -> String {
    let mut s = format!(
        "<figure>\n<figcaption>{}</figcaption>\n{}\n",
        esc(caption),
        svg
    );
    if !note.is_empty() {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(note));
    }
    let _ = write!(
        s,
        "</figure>\n<details><summary>Data table: {}</summary>\n{}</details>\n",
        esc(&table.caption),
        table.render()
    );
    s
}

/// A table shown directly (no chart).
pub fn table(table: &Table) -> String {
    format!("<div class=\"table\">{}</div>\n", table.render())
}

/// A paragraph.
pub fn para(class: &str, text: &str) -> String {
    format!("<p class=\"{class}\">{}</p>\n", esc(text))
}

/// Big numbers: (label, value, note).
pub fn tiles(items: &[(String, String, String)]) -> String {
    let mut s = String::from("<dl class=\"tiles\">\n");
    for (label, value, note) in items {
        let _ = writeln!(
            s,
            "<div><dt>{}</dt><dd class=\"big\">{}</dd><dd class=\"small\">{}</dd></div>",
            esc(label),
            esc(value),
            esc(note)
        );
    }
    s.push_str("</dl>\n");
    s
}

/// A bulleted list.
pub fn list(items: &[String]) -> String {
    let mut s = String::from("<ul>\n");
    for i in items {
        let _ = writeln!(s, "<li>{}</li>", esc(i));
    }
    s.push_str("</ul>\n");
    s
}

/// A subheading inside a section.
pub fn h3(text: &str) -> String {
    format!("<h3>{}</h3>\n", esc(text))
}

/// One numbered section of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Anchor id.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// The period the section covers.
    pub period: String,
    /// One sentence in plain English: what the numbers say.
    pub reading: String,
    /// Charts, tables and notes (already HTML).
    pub body: String,
}

/// The whole page.
#[derive(Debug, Clone)]
pub struct Page {
    /// `<title>` and `<h1>`.
    pub title: String,
    /// Lines under the title.
    pub subtitle: Vec<String>,
    /// Sections in order.
    pub sections: Vec<Section>,
    /// The "about this report" paragraphs.
    pub about: Vec<String>,
    /// The run whose manifest the page describes, recorded in its head
    /// ([`RUN_META`]) so a later run can tell a page written before it published.
    pub run_id: Option<String>,
}

/// The `<meta>` name under which a page records the run it describes.
pub const RUN_META: &str = "joinedup-run";

impl Page {
    /// Renders the page.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             {}<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
            self.run_id
                .as_ref()
                .map(|id| format!("<meta name=\"{RUN_META}\" content=\"{}\">\n", esc(id)))
                .unwrap_or_default(),
            esc(&self.title),
            css()
        );
        let _ = writeln!(
            s,
            "<svg class=\"defs\" width=\"0\" height=\"0\" aria-hidden=\"true\" focusable=\"false\"><defs>\
             <pattern id=\"{HATCH}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
             <rect width=\"6\" height=\"6\" fill=\"{WHITE}\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{MUTED}\" stroke-width=\"3\"/>\
             </pattern></defs></svg>"
        );
        let _ = writeln!(s, "<header>\n<h1>{}</h1>", esc(&self.title));
        for line in &self.subtitle {
            let _ = writeln!(s, "<p class=\"subtitle\">{}</p>", esc(line));
        }
        s.push_str("<nav aria-label=\"Sections\"><ol>\n");
        for sec in &self.sections {
            let _ = writeln!(
                s,
                "<li><a href=\"#{}\">{}</a></li>",
                sec.id,
                esc(&sec.title)
            );
        }
        s.push_str("</ol></nav>\n</header>\n<main>\n");
        for (i, sec) in self.sections.iter().enumerate() {
            let _ = write!(
                s,
                "<section id=\"{id}\" aria-labelledby=\"{id}-h\">\n<div class=\"lead\">\n<h2 id=\"{id}-h\">{n}. {}</h2>\n\
                 <p class=\"period\"><span>Period:</span> {}</p>\n<p class=\"reading\">{}</p>\n</div>\n{}</section>\n",
                esc(&sec.title),
                esc(&sec.period),
                esc(&sec.reading),
                sec.body,
                id = sec.id,
                n = i + 1,
            );
        }
        s.push_str("</main>\n<footer>\n<h2>About this report</h2>\n");
        for p in &self.about {
            let _ = writeln!(s, "<p>{}</p>", esc(p));
        }
        s.push_str("</footer>\n</body>\n</html>\n");
        s
    }
}

fn css() -> String {
    format!(
        r#"
:root {{ color: {TEXT}; background: {WHITE}; }}
body {{ font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; font-size: 16px; line-height: 1.5; margin: 0 auto; max-width: 62rem; padding: 1rem 1.5rem 3rem; }}
h1 {{ font-size: 1.9rem; line-height: 1.2; margin: 0.5rem 0; }}
h2 {{ font-size: 1.45rem; margin: 0 0 0.25rem; }}
h3 {{ font-size: 1.1rem; margin: 1.25rem 0 0.25rem; }}
a {{ color: {BLUE}; }}
a:focus, summary:focus {{ outline: 3px solid {TEXT}; outline-offset: 2px; }}
.subtitle {{ color: {MUTED}; margin: 0; }}
nav ol {{ columns: 2; padding-left: 1.5rem; margin: 1rem 0; }}
section {{ border-top: 4px solid {BLUE}; padding: 1rem 0 0.5rem; margin-top: 1.75rem; }}
.period {{ color: {MUTED}; margin: 0; }}
.period span {{ font-weight: bold; }}
.reading {{ font-size: 1.15rem; font-weight: bold; margin: 0.5rem 0 1rem; }}
.note {{ color: {MUTED}; font-size: 0.9rem; }}
figure {{ margin: 0.75rem 0 0.25rem; }}
figcaption {{ font-weight: bold; margin-bottom: 0.25rem; }}
svg.chart {{ width: 100%; height: auto; display: block; }}
svg.defs {{ position: absolute; }}
svg text {{ font-family: inherit; font-size: 13px; fill: {TEXT}; }}
svg text.axis {{ font-size: 12px; fill: {MUTED}; }}
svg text.note {{ font-style: italic; fill: {MUTED}; }}
svg text.value {{ font-weight: bold; }}
details {{ margin: 0.25rem 0 1rem; }}
summary {{ cursor: pointer; color: {BLUE}; text-decoration: underline; }}
table {{ border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }}
caption {{ text-align: left; font-weight: bold; padding-bottom: 0.25rem; }}
th, td {{ border-bottom: 1px solid {MUTED}; padding: 0.2rem 0.6rem 0.2rem 0; text-align: left; vertical-align: top; }}
td.num {{ text-align: right; }}
td.sup {{ font-style: italic; color: {MUTED}; }}
.table {{ overflow-x: auto; }}
dl.tiles {{ display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 0.5rem 0 1rem; }}
dl.tiles div {{ background: {PALE}; padding: 0.6rem 0.9rem; flex: 1 1 12rem; }}
dl.tiles dt {{ font-size: 0.95rem; }}
dl.tiles dd {{ margin: 0; }}
dl.tiles dd.big {{ font-size: 2rem; font-weight: bold; line-height: 1.2; }}
dl.tiles dd.small {{ font-size: 0.9rem; color: {MUTED}; }}
footer {{ border-top: 1px solid {MUTED}; margin-top: 2rem; color: {MUTED}; font-size: 0.9rem; }}
footer h2 {{ font-size: 1.1rem; color: {TEXT}; margin-top: 1rem; }}
@page {{ size: A4; margin: 14mm 12mm; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 11pt; }}
  nav, details:not([open]) {{ display: none; }}
  section {{ break-before: auto; }}
  .lead, h3, figcaption {{ break-after: avoid; }}
  .lead, figure, dl.tiles, tr {{ break-inside: avoid; }}
  dl.tiles div {{ flex-basis: 8rem; }}
  dl.tiles dd.big {{ font-size: 1.4rem; }}
  a {{ color: {TEXT}; text-decoration: none; }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_chart_comes_with_its_table_behind_a_toggle() {
        let t = Table {
            id: "t".to_string(),
            caption: "Numbers".to_string(),
            head: vec!["A".to_string(), "B".to_string()],
            rows: vec![vec![
                Td::Head("x".to_string()),
                Td::Suppressed("suppressed (1–7)".to_string()),
            ]],
        };
        let html = chart("Chart", "<svg></svg>", &t, "");
        let details = html.find("<details>").unwrap();
        assert!(html.find("<svg>").unwrap() < details);
        assert!(html[details..].contains("<table id=\"t\">"));
        assert!(html.contains("<td class=\"num sup\">suppressed (1–7)</td>"));
    }
}
