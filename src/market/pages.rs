//! The pages other than item pages: robots.txt, home, search results,
//! shop, the disallowed ones (private, cart) and error pages.

use super::html::{esc, head, site_footer, site_header, url_encode};
use super::products::SEED_KEYWORDS;
use super::rng::{hash_str, hash3};
use super::search::SearchPage;
use super::state::Shared;
use std::fmt::Write;

pub(crate) const ROBOTS_TXT: &str = "# 演示商城 robots.txt\n\
User-agent: BadBot\n\
Disallow: /\n\
\n\
User-agent: *\n\
Disallow: /private/\n\
Disallow: /cart\n\
Disallow: /*?preview=\n";

pub(crate) fn home(shared: &Shared) -> String {
    let mut out = String::new();
    head(&mut out, "首页", "<meta charset=\"utf-8\">\n");
    site_header(&mut out, "");
    out.push_str("<div class=\"categories\"><h2>全部商品分类</h2>\n");
    for (group, words) in SEED_KEYWORDS {
        let _ = write!(out, "<div class=\"category\"><h3>{group}</h3><ul>");
        for w in *words {
            let _ = write!(
                out,
                "<li><a href=\"/search?q={}\">{w}</a></li>",
                url_encode(w)
            );
        }
        out.push_str("</ul></div>\n");
    }
    let _ = writeln!(
        out,
        "</div>\n<p class=\"stat\">共 {} 件商品</p>\n\
         <p><a href=\"/private/admin\">商家后台</a></p>",
        shared.items()
    );
    site_footer(&mut out);
    out.push_str("</body>\n</html>\n");
    out
}

/// A result page (UTF-8).
pub(crate) fn search(shared: &Shared, q: &str, page: u64, res: &SearchPage) -> String {
    let mut out = String::with_capacity(1_000 * res.items.len() + 8_000);
    head(
        &mut out,
        &format!("{q} - 商品搜索"),
        "<meta charset=\"utf-8\">\n",
    );
    site_header(&mut out, q);
    let qe = url_encode(q);
    let _ = writeln!(
        out,
        "<div class=\"filter\">共 <span class=\"total\">{}</span> 件商品 \
         <a href=\"/private/filter?q={qe}&sort=sales\">按销量</a> \
         <a href=\"/search?preview=1&q={qe}&page={page}\">预览模式</a></div>",
        res.total
    );
    if res.items.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"notice\">抱歉，没有找到与“{}”相关的商品</div>",
            esc(q)
        );
    }
    out.push_str("<div id=\"J_goodsList\"><ul class=\"gl-warp\">\n");
    for item in &res.items {
        card(&mut out, shared, item.id, item.index, q);
    }
    out.push_str("</ul></div>\n");
    pager(&mut out, shared, &qe, page, res);
    let _ = writeln!(
        out,
        "<p><a href=\"/private/export?q={qe}\">导出结果</a></p>"
    );
    site_footer(&mut out);
    out.push_str("</body>\n</html>\n");
    out
}

fn card(out: &mut String, shared: &Shared, id: u64, index: u64, q: &str) {
    let t = shared.truth(super::state::ItemRef { id, index });
    let h = hash3(shared.cfg.seed, id, hash_str(q));
    let mut href = format!("/item/{id}.html?spm=a1z10.search.0.0&ref=search&utm_source=demo");
    match h % 100 {
        0..8 => href.push_str("#comments"),
        8..20 => {
            let _ = write!(href, "&_t={}", 1_764_300_000_000 + h % 100_000_000);
        }
        _ => {}
    }
    let title = esc(&t.title);
    let shown = if q.is_empty() {
        title.clone()
    } else {
        title.replace(&esc(q), &format!("<em>{}</em>", esc(q)))
    };
    let _ = writeln!(
        out,
        "<li class=\"gl-item\" data-sku=\"{id}\"><div class=\"gl-i-wrap\">\
         <div class=\"p-img\"><a href=\"/item/{id}.html\" target=\"_blank\">\
         <img src=\"/static/blank.gif\" data-lazy-img=\"/img/{id}/1.jpg\"></a></div>\
         <div class=\"p-price\"><strong><em>￥</em><span class=\"price\">{:.2}</span></strong></div>\
         <div class=\"p-name\"><a href=\"{href}\" title=\"{title}\" target=\"_blank\">{shown}</a></div>\
         <div class=\"p-commit\"><a href=\"/item/{id}.html#comments\">{}+</a>条评价</div>\
         <div class=\"p-shop\"><a class=\"shop-name\" href=\"/shop/{}.html\">{}</a></div>\
         <div class=\"p-ops\"><a href=\"/item/{id}.html?preview=1\">预览</a> \
         <a href=\"/cart?add={id}\">加入购物车</a></div></div></li>",
        t.price,
        h % 5000,
        t.shop,
        esc(&t.seller)
    );
}

fn pager(out: &mut String, shared: &Shared, qe: &str, page: u64, res: &SearchPage) {
    let size = shared.cfg.page_size.max(1) as u64;
    let pages = res.total.div_ceil(size).max(1);
    let link = |p: u64| format!("/search?q={qe}&page={p}");
    out.push_str("<div id=\"J_bottomPage\" class=\"p-wrap\"><span class=\"p-num\">");
    if page > 1 {
        let _ = write!(
            out,
            "<a class=\"pn-prev\" href=\"{}\">上一页</a>",
            link(page - 1)
        );
    }
    for p in page.saturating_sub(2).max(1)..=(page + 2).min(pages) {
        if p == page {
            let _ = write!(out, "<a class=\"curr\">{p}</a>");
        } else {
            let _ = write!(out, "<a href=\"{}\">{p}</a>", link(p));
        }
    }
    if res.has_next {
        let _ = write!(
            out,
            "<a class=\"pn-next\" href=\"{}\">下一页</a>",
            link(page + 1)
        );
    }
    let _ = writeln!(
        out,
        "</span><span class=\"p-skip\">共<b>{pages}</b>页</span></div>"
    );
}

pub(crate) fn shop(id: &str, name: &str) -> String {
    let mut out = String::new();
    head(&mut out, name, "<meta charset=\"utf-8\">\n");
    site_header(&mut out, "");
    let _ = writeln!(
        out,
        "<div class=\"shop-header\" data-shop-id=\"{id}\"><h1 class=\"shop-title\">{}</h1>\
         <div class=\"shop-score\">店铺评分 <b>4.8</b> 商品描述 4.9 物流服务 4.8</div>\
         <a href=\"/private/follow?shop={id}\">关注店铺</a></div>",
        esc(name)
    );
    site_footer(&mut out);
    out.push_str("</body>\n</html>\n");
    out
}

/// A plain page with a heading and a line (private, cart, errors).
pub(crate) fn simple(title: &str, text: &str) -> String {
    let mut out = String::new();
    head(&mut out, title, "<meta charset=\"utf-8\">\n");
    site_header(&mut out, "");
    let _ = writeln!(out, "<div class=\"notice\">{}</div>", esc(text));
    site_footer(&mut out);
    out.push_str("</body>\n</html>\n");
    out
}
