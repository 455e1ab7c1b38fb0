//! The workspace's 帮助 page (`/help`): the quick-start guide
//! (`docs/快速上手.md`, built in) as HTML, for every signed-in role. The
//! guide is Markdown of a small kind — headings, paragraphs, lists, fenced
//! code, `code`, **bold** and web links — and everything in it is escaped
//! before those few marks become tags.

use super::AppState;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::Layout;
use crate::review::auth::Permission;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

/// The guide, as in the repository.
pub const GUIDE: &str = include_str!("../../docs/快速上手.md");

#[derive(Template)]
#[template(path = "help.html")]
pub struct HelpView {
    pub layout: Layout,
    /// The guide as HTML (escaped text, tags from [`to_html`] only).
    pub body: String,
}

pub async fn page_get(State(state): State<Arc<AppState>>, user: CurrentUser) -> PageResult {
    user.require(Permission::View)?;
    let view = HelpView {
        layout: layout(&state, &user, "help", "帮助"),
        body: to_html(GUIDE),
    };
    page(&view, StatusCode::OK)
}

/// What the current block is.
#[derive(PartialEq)]
enum Block {
    None,
    Paragraph,
    List(&'static str),
}

/// The guide's Markdown as HTML.
pub fn to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut block = Block::None;
    let mut code: Option<String> = None;
    let close = |block: &mut Block, out: &mut String| {
        match block {
            Block::Paragraph => out.push_str("</p>\n"),
            Block::List(tag) => out.push_str(&format!("</li></{tag}>\n")),
            Block::None => {}
        }
        *block = Block::None;
    };
    for line in markdown.lines() {
        if let Some(c) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push_str(&format!("<pre><code>{}</code></pre>\n", escape(c)));
                code = None;
            } else {
                c.push_str(line);
                c.push('\n');
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            close(&mut block, &mut out);
            code = Some(String::new());
        } else if trimmed.is_empty() {
            close(&mut block, &mut out);
        } else if let Some((level, text)) = heading(line) {
            close(&mut block, &mut out);
            let id = if level == 2 {
                format!(" id=\"s{}\"", out.matches("<h2").count() + 1)
            } else {
                String::new()
            };
            out.push_str(&format!("<h{level}{id}>{}</h{level}>\n", inline(text)));
        } else if let Some((tag, text)) = list_item(line) {
            match &block {
                Block::List(t) if *t == tag => out.push_str("</li>\n<li>"),
                _ => {
                    close(&mut block, &mut out);
                    out.push_str(&format!("<{tag}>\n<li>"));
                    block = Block::List(tag);
                }
            }
            out.push_str(&inline(text));
        } else if block == Block::None {
            out.push_str(&format!("<p>{}", inline(trimmed)));
            block = Block::Paragraph;
        } else {
            // A continuation line of a paragraph or list item.
            out.push('\n');
            out.push_str(&inline(trimmed));
        }
    }
    if let Some(c) = code {
        out.push_str(&format!("<pre><code>{}</code></pre>\n", escape(&c)));
    }
    close(&mut block, &mut out);
    out
}

/// `## Title` → (2, "Title"); levels 1 to 4.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let rest = line[level..].strip_prefix(' ')?;
    ((1..=4).contains(&level)).then_some((level, rest.trim()))
}

/// `- item` → ("ul", "item"), `1. item` → ("ol", "item"); only at the start of a line.
fn list_item(line: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = line.strip_prefix("- ") {
        return Some(("ul", rest.trim()));
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rest = line[digits..].strip_prefix(". ")?;
    (digits > 0).then_some(("ol", rest.trim()))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Escapes a line's text, then turns `code`, **bold** and [text](http…)
/// into tags; code spans are taken as they are.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", escape(part)));
        } else {
            out.push_str(&links(&bold(&escape(part))));
        }
    }
    out
}

fn bold(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split("**").enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<strong>{part}</strong>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `[text](url)` (already escaped) as a link when the URL is a web address
/// or a path of the workspace; otherwise the text alone.
fn links(s: &str) -> String {
    static LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\[([^\]]+)\]\(([^)\s]+)\)").expect("valid pattern")
    });
    LINK.replace_all(s, |c: &regex::Captures| {
        let (text, url) = (&c[1], &c[2]);
        let web = url.starts_with("https://") || url.starts_with("http://");
        if web || (url.starts_with('/') && !url.starts_with("//")) {
            format!("<a href=\"{url}\">{text}</a>")
        } else {
            text.to_string()
        }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_markdown_becomes_html() {
        let html = to_html(
            "# 标题\n\n一段 `cccwatch init` 文字，**重要**。\n第二行\n\n- 甲\n- 乙 [队列](/queue)\n\n1. 一\n2. 二\n\n```sh\ncccwatch serve <x>\n```\n",
        );
        assert!(html.contains("<h1>标题</h1>"), "{html}");
        assert!(
            html.contains(
                "<p>一段 <code>cccwatch init</code> 文字，<strong>重要</strong>。\n第二行</p>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<ul>\n<li>甲</li>\n<li>乙 <a href=\"/queue\">队列</a></li></ul>"),
            "{html}"
        );
        assert!(
            html.contains("<ol>\n<li>一</li>\n<li>二</li></ol>"),
            "{html}"
        );
        assert!(
            html.contains("<pre><code>cccwatch serve &lt;x&gt;\n</code></pre>"),
            "{html}"
        );
    }

    #[test]
    fn markup_in_the_text_stays_text() {
        let html = to_html("<script>alert(1)</script> [x](javascript:alert(1)) `<b>`\n");
        assert!(
            !html.contains("<script>") && !html.contains("javascript:"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;") && html.contains("<code>&lt;b&gt;</code>"));
    }

    #[test]
    fn the_guide_covers_each_step() {
        let html = to_html(GUIDE);
        for step in [
            "cccwatch init",
            "certdb import",
            "认监委",
            "审核队列",
            "签发",
            "月报",
            "定时",
        ] {
            assert!(html.contains(step), "the guide explains {step}");
        }
    }
}
