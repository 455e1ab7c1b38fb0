//! HTML helpers shared by the pages: escaping, query encoding, the site
//! header and footer, inline-script filler and the placeholder image.

use super::products::SEED_KEYWORDS;
use std::fmt::Write;

/// Escapes text for HTML content and double-quoted attributes. U+00A0 is
/// written as `&nbsp;` (as sellers' descriptions do).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value (UTF-8), as browsers do.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A 1×1 transparent GIF.
pub(crate) const BLANK_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// `<!DOCTYPE…><head>` up to and including `<title>`; `head_extra` goes
/// first in the head (an inline script, and the GBK meta after it).
pub(crate) fn head(out: &mut String, title: &str, head_extra: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n");
    out.push_str(head_extra);
    let _ = writeln!(out, "<title>{}-演示商城</title>", esc(title));
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n");
}

/// The site header: logo, search box, category navigation, user links.
pub(crate) fn site_header(out: &mut String, query: &str) {
    out.push_str("<body>\n<div id=\"shortcut\"><ul class=\"fr\">");
    out.push_str("<li><a href=\"/private/login\">你好，请登录</a></li>");
    out.push_str("<li><a href=\"/private/orders\">我的订单</a></li>");
    out.push_str("<li><a href=\"/cart\">购物车</a></li></ul></div>\n");
    let _ = writeln!(
        out,
        "<div id=\"header\"><a class=\"logo\" href=\"/\">演示商城</a>\
         <form action=\"/search\" method=\"get\"><input name=\"q\" value=\"{}\">\
         <button type=\"submit\">搜索</button></form></div>",
        esc(query)
    );
    out.push_str("<ul id=\"nav\">");
    for (group, words) in SEED_KEYWORDS {
        let _ = write!(out, "<li class=\"cate\"><span>{group}</span>");
        for w in *words {
            let _ = write!(out, "<a href=\"/search?q={}\">{w}</a>", url_encode(w));
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>\n");
}

pub(crate) fn site_footer(out: &mut String) {
    out.push_str("<div id=\"footer\"><p>");
    for (text, href) in [
        ("关于我们", "/about"),
        ("联系客服", "/private/service"),
        ("商家入驻", "/private/seller"),
        ("隐私政策", "/about"),
    ] {
        let _ = write!(out, "<a href=\"{href}\">{text}</a> | ");
    }
    out.push_str("</p><p>演示商城 仅供演示与测试 · 所有商品数据均为生成数据</p></div>\n");
}

/// A plausible inline script of about `bytes` bytes (tracking and
/// configuration code, with a few Chinese comments).
pub(crate) fn filler_script(bytes: usize, salt: u64) -> String {
    let mut out = String::with_capacity(bytes + 256);
    out.push_str("<script>\n// 页面统计与推荐配置\nvar pageConfig = {product: {}, track: []};\n");
    let mut i = 0u64;
    while out.len() < bytes {
        let _ = write!(
            out,
            "function _t{i}(e){{var k='m{:x}';if(!window.__tr)window.__tr=[];\
             window.__tr.push({{k:k,v:e,t:Date.now()}});return k.length+{i};}}\n\
             // 埋点 {i}：曝光、点击与停留时长\n",
            salt.wrapping_mul(2654435761).wrapping_add(i)
        );
        i += 1;
    }
    out.push_str("</script>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_encodes() {
        assert_eq!(esc("a<b>&\"\u{a0}"), "a&lt;b&gt;&amp;&quot;&nbsp;");
        assert_eq!(url_encode("插座 a"), "%E6%8F%92%E5%BA%A7%20a");
        let s = filler_script(2000, 1);
        assert!(s.len() >= 2000 && s.ends_with("</script>\n"));
    }
}
