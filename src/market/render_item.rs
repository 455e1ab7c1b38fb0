//! Item pages: full-size (30–60 KB: navigation, gallery, comments,
//! recommendations, scripts) or small (3–5 KB), with the spec table in the
//! item's layout, and the delisted page.

use super::html::{esc, filler_script, head, site_footer, site_header};
use super::rng::stream;
use super::state::Shared;
use super::truth::ItemTruth;
use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use std::fmt::Write;

const SALT_PAGE: u64 = 3;

/// The page of `t` (generated listing `index`) as a UTF-8 string; the
/// caller encodes it to GBK when `t.charset` says so.
pub(crate) fn item_page(shared: &Shared, t: &ItemTruth, index: u64) -> String {
    let mut rng = stream(shared.cfg.seed, index, SALT_PAGE);
    let gbk = t.charset == "gbk";
    let small = shared.cfg.small_pages;
    let far_meta = gbk && !small && rng.random_bool(0.25);
    let head_script = match (gbk, far_meta) {
        (true, true) => 110_000 + rng.random_range(0..8_000),
        (true, false) => 1_300 + rng.random_range(0..900),
        _ => 600,
    };
    let mut extra = String::new();
    if !gbk {
        extra.push_str("<meta charset=\"utf-8\">\n");
    }
    extra.push_str(&filler_script(head_script, index));
    if gbk {
        extra.push_str("<meta charset=\"gbk\">\n");
    }
    let mut out = String::with_capacity(if small { 6_000 } else { 64_000 });
    head(&mut out, &t.title, &extra);
    if small {
        small_body(&mut out, shared, t, &mut rng);
    } else {
        full_body(&mut out, shared, t, &mut rng);
        let target = rng.random_range(30_000..58_000);
        if out.len() + 200 < target {
            out.push_str(&filler_script(target - out.len() - 200, index + 1));
        }
    }
    if t.title.starts_with(super::HOSTILE_TITLE_PREFIX) {
        out.push_str(super::HOSTILE_PAGE_SCRIPT);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn small_body(out: &mut String, shared: &Shared, t: &ItemTruth, rng: &mut SmallRng) {
    let _ = writeln!(
        out,
        "<body>\n<div class=\"crumb\"><a href=\"/\">首页</a> &gt; {}</div>",
        esc(&t.category)
    );
    info(out, t);
    spec(out, t, rng);
    detail(out, t, false);
    recommend(out, shared, "看了又看", 4, rng);
    site_footer(out);
}

fn full_body(out: &mut String, shared: &Shared, t: &ItemTruth, rng: &mut SmallRng) {
    site_header(out, "");
    out.push_str("<div class=\"crumb\"><a href=\"/\">首页</a>");
    for part in t.category.split('>') {
        let _ = write!(
            out,
            " &gt; <a href=\"/search?q={}\">{}</a>",
            super::html::url_encode(part),
            esc(part)
        );
    }
    out.push_str("</div>\n<div class=\"product-intro\"><div class=\"preview\">");
    for n in 1..=5 {
        let _ = write!(
            out,
            "<img src=\"/static/blank.gif\" data-lazy-img=\"/img/{}/{n}.jpg\" alt=\"{}\">",
            t.id,
            esc(&t.title)
        );
    }
    out.push_str("</div>\n");
    info(out, t);
    out.push_str("</div>\n<div class=\"detail-tabs\"><a href=\"#detail\">商品介绍</a>");
    out.push_str("<a href=\"#spec\">规格与包装</a><a href=\"#comments\">商品评价</a></div>\n");
    spec(out, t, rng);
    detail(out, t, true);
    comments(out, rng);
    recommend(out, shared, "看了又看", 12, rng);
    recommend(out, shared, "店铺热销", 8, rng);
    site_footer(out);
}

/// Title, price, shop and the buttons (cart and preview: robots-disallowed).
fn info(out: &mut String, t: &ItemTruth) {
    let _ = writeln!(
        out,
        "<div class=\"itemInfo-wrap\">\n<h1 class=\"sku-name\">{}</h1>\n\
         <div class=\"news\">限时优惠 正品保障</div>\n\
         <div class=\"summary-price\"><span class=\"p-label\">价格</span>\
         <div class=\"p-price\"><em>￥</em><span class=\"price\">{:.2}</span></div></div>\n\
         <div class=\"summary-service\">由 <a class=\"shop-name\" href=\"/shop/{}.html\">{}</a> \
         发货，并提供售后服务。</div>\n\
         <div class=\"choose-btns\"><a class=\"btn-append\" href=\"/cart?add={id}\">加入购物车</a> \
         <a class=\"btn-preview\" href=\"/item/{id}.html?preview=1\">预览</a></div>\n</div>",
        esc(&t.title),
        t.price,
        t.shop,
        esc(&t.seller),
        id = t.id,
    );
}

/// The spec rows in the item's layout.
fn spec(out: &mut String, t: &ItemTruth, rng: &mut SmallRng) {
    out.push_str("<div id=\"spec\" class=\"Ptable\">\n");
    match t.spec_layout {
        "dl.spec" => {
            out.push_str("<div class=\"Ptable-item\"><h3>主体</h3><dl class=\"spec\">");
            for (k, v) in &t.spec {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
            }
            out.push_str("</dl></div>\n");
        }
        "table.spec" => {
            out.push_str("<table class=\"spec\"><tbody>");
            for (k, v) in &t.spec {
                let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
            }
            out.push_str("</tbody></table>\n");
        }
        "ul.parameter" => {
            out.push_str("<ul class=\"parameter\">");
            for (k, v) in &t.spec {
                let sep = if rng.random_bool(0.2) { " : " } else { "：" };
                let _ = write!(out, "<li>{}{sep}{}</li>", esc(k), esc(v));
            }
            out.push_str("</ul>\n");
        }
        _ => {
            out.push_str("<ul class=\"attr\">");
            for (k, v) in &t.spec {
                let _ = write!(
                    out,
                    "<li title=\"{}\">{}: {}</li>",
                    esc(v),
                    esc(k),
                    esc(&cut(v))
                );
            }
            out.push_str("</ul>\n");
        }
    }
    out.push_str("</div>\n");
}

/// Long values are cut on screen: 10 characters and `…`.
pub(crate) fn cut(v: &str) -> String {
    if v.chars().count() <= 12 {
        return v.to_string();
    }
    let mut s: String = v.chars().take(10).collect();
    s.push('…');
    s
}

fn detail(out: &mut String, t: &ItemTruth, images: bool) {
    out.push_str("<div class=\"detail\" id=\"detail\">\n");
    for p in t.description.split('\n') {
        let _ = writeln!(out, "<p>{}</p>", esc(p));
    }
    if images {
        for n in 1..=8 {
            let _ = write!(
                out,
                "<img src=\"/static/blank.gif\" data-lazy-img=\"/img/{}/d{n}.jpg\">",
                t.id
            );
        }
        out.push('\n');
    }
    out.push_str("</div>\n");
}

fn comments(out: &mut String, rng: &mut SmallRng) {
    const TEXTS: &[&str] = &[
        "质量很好，做工精细，和描述的一样，物流也很快。",
        "包装完好，用了几天感觉不错，值得购买。",
        "性价比很高，家里人都说好用，下次还来。",
        "客服态度很好，有问必答，发货速度快。",
        "东西收到了，外观漂亮，功能齐全，五星好评！",
        "一般般吧，凑合能用，希望以后改进。",
    ];
    out.push_str("<div id=\"comments\" class=\"comments\"><h3>商品评价</h3><ul>");
    for i in 0..10 {
        let text = TEXTS.choose(rng).expect("texts");
        let _ = write!(
            out,
            "<li class=\"comment-item\"><span class=\"user\">j***{}</span>\
             <span class=\"star\">{}</span><p>{text}</p><span class=\"date\">2026-{:02}-{:02}</span></li>",
            rng.random_range(0..100),
            rng.random_range(3..=5),
            1 + i % 11,
            rng.random_range(1..=28)
        );
    }
    out.push_str("</ul></div>\n");
}

/// A block of other listings (links to their item pages).
fn recommend(out: &mut String, shared: &Shared, heading: &str, n: usize, rng: &mut SmallRng) {
    let _ = write!(out, "<div class=\"recommend\"><h3>{heading}</h3><ul>");
    for _ in 0..n.min(shared.cfg.items) {
        let index = rng.random_range(0..shared.items());
        let other = shared.truth(Shared::generated(index));
        let _ = write!(
            out,
            "<li class=\"rec-item\"><a href=\"/item/{id}.html?ref=rec\"><img src=\"/static/blank.gif\" \
             data-lazy-img=\"/img/{id}/1.jpg\"><span class=\"rec-name\">{}</span></a>\
             <span class=\"rec-price\">￥{:.2}</span></li>",
            esc(&other.title),
            other.price,
            id = other.id
        );
    }
    out.push_str("</ul></div>\n");
}

/// The page a delisted listing shows (200).
pub(crate) fn delisted_page(id: &str) -> String {
    let mut out = String::new();
    head(&mut out, "商品已下架", "<meta charset=\"utf-8\">\n");
    site_header(&mut out, "");
    let _ = writeln!(
        out,
        "<div class=\"error\">该商品已下架</div>\n<p>商品编号 {id} 已下架，\
         您可以<a href=\"/\">返回首页</a>看看其他商品。</p>"
    );
    site_footer(&mut out);
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut() {
        assert_eq!(cut("公牛"), "公牛");
        assert_eq!(cut("3C证书编号：2016010201931890"), "3C证书编号：201…");
    }
}
