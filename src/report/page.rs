//! The one HTML page skeleton every report of northbound uses: the
//! default model's run, ensemble, comparison, sweep and forecast folders
//! (`report.rs`) and a scored `flee` run (`flee/report.rs`).
//!
//! Owns the head (charset, viewport, a Content-Security-Policy that
//! forbids every request, the title), the one style sheet, the header
//! (title and the line under it), the figure that holds a chart drawn for
//! a desktop and for a phone, tables, the little Markdown of `summary.md`
//! and the footer ("About this page"). Must not choose what a page says or
//! read any file: its callers pass the sections.

use super::svg::esc;
use std::fmt::Write as _;

/// Widths the charts are drawn at: a desktop column and a phone screen.
pub(crate) const WIDE: f64 = 860.0;
pub(crate) const NARROW: f64 = 380.0;

const STYLE: &str = "body{font-family:DejaVu Sans,Verdana,Geneva,sans-serif;max-width:900px;margin:0 auto;padding:16px 14px;color:#222;line-height:1.45}\
h1{margin:0 0 4px;font-size:1.7em}h2{margin:30px 0 8px;font-size:1.25em}p.sub{color:#555;margin:0 0 12px}\
.summary{background:#f6f4ee;border-left:4px solid #c9b98f;padding:4px 16px;margin:12px 0}\
.summary p,.summary li{margin:8px 0}p.lead{color:#444;margin:4px 0 8px}\
figure{margin:14px 0}svg{display:block;width:100%;height:auto}.narrow{display:none}\
@media (max-width:640px){.wide{display:none}.narrow{display:block}body{padding:10px 8px}}\
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:8px 0;font-size:0.92em}\
td,th{padding:4px 9px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
td:first-child,th:first-child{text-align:left}p.note{color:#555;font-size:0.9em}code{font-size:0.95em}\
td small{display:block;color:#777;font-size:0.85em}";

/// A whole page: what its caller says, in the one skeleton.
pub(crate) struct Page<'a> {
    /// The `<h1>` and the `<title>` (before ` — northbound`).
    pub title: &'a str,
    /// The line under the title (plain text).
    pub sub: &'a str,
    /// The sections, HTML.
    pub body: &'a str,
    /// The footer's note, HTML: where the page's numbers are.
    pub about: &'a str,
}

impl Page<'_> {
    /// The page as one self-contained HTML document.
    pub(crate) fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>{} — northbound</title>\n<style>{STYLE}</style></head><body>\n",
            esc(self.title)
        );
        let _ = writeln!(
            h,
            "<header><h1>{}</h1><p class=\"sub\">{}</p></header>",
            esc(self.title),
            esc(self.sub)
        );
        h += self.body;
        let _ = write!(
            h,
            "<h2>About this page</h2>\n<p class=\"note\">{}</p>\n</body></html>\n",
            self.about
        );
        h
    }
}

/// A chart drawn for a desktop and for a phone; the style sheet shows the
/// one that fits.
pub(crate) fn figure(wide: String, narrow: String) -> String {
    format!("<figure><div class=\"wide\">{wide}</div><div class=\"narrow\">{narrow}</div></figure>\n")
}

/// A cell; `name\u{1}id` shows the id small under the name.
fn td(s: &str) -> String {
    match s.split_once('\u{1}') {
        Some((name, id)) => format!("<td>{}<small>{}</small></td>", esc(name), esc(id)),
        None => format!("<td>{}</td>", esc(s)),
    }
}

/// A table of text cells under a header row (both escaped here).
pub(crate) fn table_html(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut h = String::from("<div class=\"scroll\"><table><thead><tr>");
    for c in head {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h += "</tr></thead><tbody>";
    for r in rows {
        h += "<tr>";
        for c in r {
            h += &td(c);
        }
        h += "</tr>";
    }
    h += "</tbody></table></div>\n";
    h
}

/// `**bold**` and `` `code` `` inside one escaped line of Markdown.
fn inline(s: &str) -> String {
    let e = esc(s);
    let mut out = String::new();
    let mut bold = false;
    let mut code = false;
    let mut rest = e.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("**") {
            out += if bold { "</strong>" } else { "<strong>" };
            bold = !bold;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('`') {
            out += if code { "</code>" } else { "<code>" };
            code = !code;
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if bold {
        out += "</strong>";
    }
    if code {
        out += "</code>";
    }
    out
}

/// The little Markdown `summary.md` uses: paragraphs, `- ` items, `**bold**`
/// and `` `code` ``.
pub(crate) fn markdown(md: &str) -> String {
    let mut h = String::new();
    for block in md.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        if block.lines().all(|l| l.starts_with("- ")) {
            h += "<ul>";
            for l in block.lines() {
                let _ = write!(h, "<li>{}</li>", inline(&l[2..]));
            }
            h += "</ul>\n";
        } else {
            let _ = writeln!(h, "<p>{}</p>", inline(&block.replace('\n', " ")));
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_markdown_becomes_escaped_html() {
        let h = markdown("**a** <b> `x`\n\n- one\n- **two**");
        assert_eq!(
            h,
            "<p><strong>a</strong> &lt;b&gt; <code>x</code></p>\n<ul><li>one</li><li><strong>two</strong></li></ul>\n"
        );
    }

    #[test]
    fn a_page_fetches_nothing_and_escapes_its_title() {
        let h = Page {
            title: "a <b>",
            sub: "c & d",
            body: "<h2>x</h2>\n",
            about: "made here",
        }
        .html();
        assert!(h.starts_with("<!DOCTYPE html>\n"), "{h}");
        assert!(h.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
        assert!(h.contains("<title>a &lt;b&gt; — northbound</title>"));
        assert!(h.contains("<header><h1>a &lt;b&gt;</h1><p class=\"sub\">c &amp; d</p></header>\n<h2>x</h2>\n"));
        assert!(h.ends_with("<h2>About this page</h2>\n<p class=\"note\">made here</p>\n</body></html>\n"));
    }
}
