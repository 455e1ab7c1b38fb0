//! The built-in demo marketplace: an HTTP server on 127.0.0.1 that plays an
//! e-commerce platform (UI text in Chinese) for demos, tests and benchmarks.
//!
//! Listings are generated lazily and deterministically from `(seed, index)`
//! out of the sample certificate export and the brand table in `certdb/`, so a
//! market of a million items starts at once and every request allocates in
//! proportion to one page only. About 45% are 插头插座开关, 35% 家用电器 and
//! 20% 玩具; each listing has an intended case ([`ItemTruth::kind`]): a valid
//! certificate, no number, a number of an expired / suspended / revoked /
//! cancelled certificate, another company's certificate, a model one digit
//! off, a look-alike brand, a number that is no certificate, or an accessory
//! that is out of scope. "Valid" and "expired" hold on [`REFERENCE_DATE`].
//!
//! # Site layout
//!
//! | path | what |
//! |---|---|
//! | `/robots.txt` | `User-agent: BadBot` → `Disallow: /`; `User-agent: *` → `Disallow: /private/`, `/cart`, `/*?preview=` |
//! | `/` | home page: category links to `/search?q=…` |
//! | `/search?q=KW&page=N` | UTF-8 result page (N from 1), `page_size` cards |
//! | `/api/search?q=KW&page=N` | `{"total","page","items":[{"id","title","price","shop","url"}],"next"}` (`next` null on the last page) |
//! | `/item/ID.html` | item page, UTF-8 or GBK (see below) |
//! | `/api/item/ID` | `{"id","title","price","shop":{"name","url"},"brand","model","category","description","props":[{"name","value"}]}` |
//! | `/shop/ID.html` | shop page |
//! | `/private/…`, `/cart…` | 200, but disallowed by robots.txt: a polite crawler never asks |
//! | `/img/…`, `/static/…` | a 1×1 GIF (`/static/site.css`: CSS) |
//! | `/about` | 200; anything else 404 |
//!
//! Search matches the keyword (ASCII case-insensitive) against title and
//! category; results come in a fixed pseudo-random order, listings relisted
//! with [`Market::relist`] last. Items appear under several keywords. Every
//! listing of a group is found by one of its group's [`SEED_KEYWORDS`].
//! Removed listings stay in the results (a stale index).
//!
//! # HTML an adapter reads
//!
//! Result page (`/search`, always UTF-8):
//! - card: `li.gl-item[data-sku=ID]`; title link `div.p-name > a` whose
//!   `href` is `/item/ID.html?spm=a1z10.search.0.0&ref=search&utm_source=demo`
//!   (raw `&`), sometimes with `#comments` or `&_t=…` appended; its text
//!   wraps the keyword in `<em>`, its `title` attribute has the whole title;
//!   price `div.p-price span.price`; shop `div.p-shop a.shop-name`. The same
//!   item is also linked as `/item/ID.html` (image) and
//!   `/item/ID.html#comments` (review count).
//! - next page: `a.pn-next[href]` (`/search?q=…&page=N+1`, absent on the
//!   last page); `a.pn-prev` from page 2; the total in `span.total`.
//! - traps: `/private/…`, `/cart`, `/cart?add=ID`, `/item/ID.html?preview=1`,
//!   `/search?preview=1&q=…` (robots-disallowed).
//!
//! Item page (`/item/ID.html`):
//! - title `h1.sku-name`; price `div.p-price span.price` ("59.90", `￥` in
//!   an `em` before it); shop `a.shop-name[href=/shop/SHOPID.html]`;
//!   description `div.detail` (`p` paragraphs, `&nbsp;` inside; may cite the
//!   number). Full-size pages add navigation, a gallery, comments and
//!   recommendation blocks (`div.recommend`, links `/item/ID.html?ref=rec`,
//!   class names `rec-name`/`rec-price`, never `price` or `shop-name`).
//! - spec, one of four layouts per item (inside `div#spec`): `dl.spec > dt,dd`;
//!   `table.spec tr > th,td`; `ul.parameter > li` "品牌：公牛" (now and then
//!   "品牌 : 公牛"); `ul.attr > li[title=VALUE]` "品牌: 公牛", the text cut
//!   to 10 characters and `…` when longer than 12 (the `title` is whole).
//! - labels: 品牌 (first row; `公牛`, `BULL/公牛`, `公牛（BULL）`,
//!   `公牛(BULL)`, `公牛 BULL` or `BULL`); 型号 / 产品型号 / 规格型号 (the
//!   model, sometimes lower case or with a colour: `DL-12483 灰色`);
//!   3C证书编号 / CCC证书编号 / 认证编号 / 证书编号 (plain, `2016 0102 0193 1890`,
//!   `2016-01-0201-931890`, full-width digits, or "3C证书编号：…" in the
//!   value); sometimes 3C规格型号 (the model again, Tmall style); 3–8
//!   ordinary rows (颜色, 额定功率, 线长, 适用年龄, 材质…). The number may be
//!   in the title (`CCC证书编号：… ` before, ` 3C:…` after) or the
//!   description instead, or nowhere.
//! - a share of pages (`gbk_share`) is GBK: `Content-Type: text/html` with
//!   no charset, `<meta charset="gbk">` after an inline `<script>` more than
//!   1 KB in (more than 100 KB in on a quarter of full-size GBK pages).
//!   Others are `text/html; charset=utf-8` with `<meta charset="utf-8">`.
//! - removed: 404, 410, or 200 with `div.error` "该商品已下架" (UTF-8).
//!
//! # Faults
//! Every `throttle_every`-th item request (`/item/`, `/api/item/`) gets 429,
//! every `unavailable_every`-th request (robots.txt excepted) 503; both with
//! `Retry-After` in seconds (1 and 2), every fourth fault as an HTTP date
//! instead. `latency` delays every response. [`Market::requests`] keeps
//! every request in memory (about 150 bytes each).

mod api;
mod data;
mod generate;
mod html;
mod middleware;
mod models;
mod pages;
mod params;
mod products;
mod render_item;
mod reqlog;
mod rng;
mod routes;
mod search;
mod server;
mod shops;
mod state;
mod text;
mod truth;
mod vocab;

#[cfg(test)]
mod testclient;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;

pub use products::SEED_KEYWORDS;
pub use server::Market;
pub use truth::ItemTruth;

use std::path::PathBuf;
use std::time::Duration;

/// The date the intended kinds hold on: "valid" certificates are valid
/// through at least a year after it, "expired" ones expired before it.
pub const REFERENCE_DATE: &str = "2026-11-28";

/// How the demo market behaves.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    pub seed: u64,
    /// Number of listings (scales to millions: generated lazily).
    pub items: usize,
    /// Result cards per search page.
    pub page_size: usize,
    /// Fraction of item pages served as GBK.
    pub gbk_share: f64,
    /// Every Nth item-page request gets 429 (0 = never).
    pub throttle_every: u64,
    /// Every Nth request gets 503 (0 = never).
    pub unavailable_every: u64,
    /// Fraction of listings that start removed (half 404, half 410).
    pub removed_share: f64,
    /// Delay added to every response.
    pub latency: Duration,
    /// Small item pages (3–5 KB) instead of full-size ones (30–60 KB).
    pub small_pages: bool,
    /// Append every request as a JSON line here (flushed at least every
    /// second and on shutdown).
    pub request_log: Option<PathBuf>,
    /// Every Nth listing (index ≡ 1 mod N) is hostile: its title starts with
    /// [`HOSTILE_TITLE_PREFIX`] and its page carries a live script that tries
    /// to reach the page framing it (0 = none). For testing the review UI.
    pub hostile_every: u64,
}

/// Markup that must show as text wherever a listing title is displayed.
pub const HOSTILE_TITLE_PREFIX: &str =
    "<script>window.__pwned='title'</script><img src=x onerror=\"window.__pwned='img'\">";

/// The live script in a hostile listing's page: if it ran in the review
/// UI, it would mark the framing page and navigate away.
pub const HOSTILE_PAGE_SCRIPT: &str = "<script>try{window.top.__pwned='evidence';window.top.document.title='PWNED'}catch(e){}\
document.title='PWNED';fetch('http://pwned.invalid/x').catch(function(){});</script>\
<meta http-equiv=\"refresh\" content=\"0;url=http://pwned.invalid/\">";

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            seed: 1,
            items: 3000,
            page_size: 40,
            gbk_share: 0.3,
            throttle_every: 0,
            unavailable_every: 0,
            removed_share: 0.02,
            latency: Duration::ZERO,
            small_pages: false,
            request_log: None,
            hostile_every: 0,
        }
    }
}

/// How a listing is taken down ([`Market::remove_item`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// 404 Not Found.
    NotFound,
    /// 410 Gone.
    Gone,
    /// 200 with a page saying 该商品已下架.
    DelistedPage,
}

/// One request the market received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestRecord {
    /// Milliseconds since the server started (monotonic), on arrival.
    pub at_ms: u64,
    pub method: String,
    pub path_and_query: String,
    pub status: u16,
    pub user_agent: String,
}
