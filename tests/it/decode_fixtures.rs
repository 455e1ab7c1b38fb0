//! Encoding detection on real saved pages (`../shared/fixtures/pages`): every
//! page decodes without errors, with the right encoding for the right reason,
//! to text that contains a string known to be on the page. Skips (and says so)
//! when `../shared` is absent.

use cccwatch::crawl::decode::{Decoded, EncodingSource, decode};
use std::path::{Path, PathBuf};

fn pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/pages")
}

/// Decodes `rel` (under the pages folder) as fetched from `host`, without a
/// Content-Type header; `None` when the fixtures are absent.
fn decode_page(rel: &str, host: &str) -> Option<Decoded> {
    let dir = pages_dir();
    if !dir.is_dir() {
        println!("skipped: ../shared absent ({})", dir.display());
        return None;
    }
    let path = dir.join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(decode(&bytes, None, Some(host)))
}

/// The page decodes as `encoding` (chosen because of `source`), without
/// replacement characters, and its text contains every one of `needles`.
fn check(rel: &str, host: &str, encoding: &str, source: EncodingSource, needles: &[&str]) {
    let Some(d) = decode_page(rel, host) else {
        return;
    };
    assert_eq!(d.encoding.name(), encoding, "{rel}: encoding");
    assert_eq!(d.source, source, "{rel}: why that encoding");
    assert!(!d.errors, "{rel}: decoding produced replacement characters");
    for needle in needles {
        assert!(d.text.contains(needle), "{rel}: text lacks {needle:?}");
    }
}

// --- JD (UTF-8) -------------------------------------------------------------

#[test]
fn jd_search_page_utf8_with_bom() {
    check(
        "jd_search_yaohuiwu/jd_search.html",
        "search.jd.com",
        "UTF-8",
        EncodingSource::Bom,
        &[
            "<title>123 - 商品搜索 - 京东</title>",
            "在京东中找到了41811件123的类似商品",
            "卡罗德Carod钢琴T23立式家用教学 黑色",
        ],
    );
    // The BOM itself is not part of the text.
    if let Some(d) = decode_page("jd_search_yaohuiwu/jd_search.html", "search.jd.com") {
        assert!(
            d.text.starts_with("<!DOCTYPE html>"),
            "BOM left in the text"
        );
    }
}

#[test]
fn jd_fragments_without_head_are_utf8() {
    // No BOM, no <meta>: valid UTF-8 bytes are taken as UTF-8.
    check(
        "jd_search_yaohuiwu/items.html",
        "search.jd.com",
        "UTF-8",
        EncodingSource::Detected,
        &[
            "卡罗德Carod钢琴T23立式家用教学 黑色",
            "大显（Daxian）JL123 移动联通2G 老人手机",
        ],
    );
    check(
        "jd_search_yaohuiwu/item.html",
        "search.jd.com",
        "UTF-8",
        EncodingSource::Detected,
        &["免邮满一送一6层加大码10条装婴儿纱布吸汗巾", "人评价"],
    );
}

// --- Tmall / Taobao: the charset <meta> is ~150 KB into the page -------------

#[test]
fn tmall_gbk_page_declared_deep_in_the_page() {
    check(
        "taobao_tmall_ogs_pages/tmall.html",
        "detail.tmall.com",
        "GBK",
        EncodingSource::Meta,
        &[
            "<title>【官网价直降】Apple/苹果 iPhone 11 4G全网通智能手机正品苏宁易购官方旗舰店苹果11-tmall.com天猫</title>",
            "<strong>苏宁易购官方旗舰店</strong>",
            "产品名称：Apple/苹果 iPhone 11",
            "机身颜色:&nbsp;红色&nbsp;白色&nbsp;黑色",
        ],
    );
}

#[test]
fn tmall_utf8_page_declaring_gbk_is_utf8() {
    check(
        "taobao_tmall_ogs_pages/tmall_2020_utf8_original.html",
        "detail.tmall.com",
        "UTF-8",
        EncodingSource::Utf8Bytes,
        &[
            "<title>【官网价直降】Apple/苹果 iPhone 11 4G全网通智能手机正品苏宁易购官方旗舰店苹果11-tmall.com天猫</title>",
            "<strong>苏宁易购官方旗舰店</strong>",
            "产品名称：Apple/苹果 iPhone 11",
        ],
    );
}

#[test]
fn tmall_gbk_and_utf8_copies_decode_to_the_same_text() {
    let (Some(gbk), Some(utf8)) = (
        decode_page("taobao_tmall_ogs_pages/tmall.html", "detail.tmall.com"),
        decode_page(
            "taobao_tmall_ogs_pages/tmall_2020_utf8_original.html",
            "detail.tmall.com",
        ),
    ) else {
        return;
    };
    // The GBK copy was re-encoded from the UTF-8 one. The only loss: 5
    // characters GBK cannot hold became '?' (3 supplementary private-use
    // icon-font characters, U+3448 and the yen sign U+00A5).
    assert_eq!(gbk.text.chars().count(), utf8.text.chars().count());
    let differ: Vec<(char, char)> = utf8
        .text
        .chars()
        .zip(gbk.text.chars())
        .filter(|(u, g)| u != g)
        .collect();
    assert_eq!(
        differ,
        vec![
            ('\u{f012b}', '?'),
            ('\u{f0148}', '?'),
            ('\u{3448}', '?'),
            ('¥', '?'),
            ('\u{f012c}', '?'),
        ]
    );
}

/// What a server says in its Content-Type header goes first, but a stale
/// header is not believed: GBK named for UTF-8 bytes, or UTF-8 named for GBK bytes.
#[test]
fn tmall_pages_with_content_type_headers() {
    let dir = pages_dir();
    if !dir.is_dir() {
        println!("skipped: ../shared absent ({})", dir.display());
        return;
    }
    let gbk_bytes = std::fs::read(dir.join("taobao_tmall_ogs_pages/tmall.html")).unwrap();
    let utf8_bytes =
        std::fs::read(dir.join("taobao_tmall_ogs_pages/tmall_2020_utf8_original.html")).unwrap();
    let host = Some("detail.tmall.com");
    let title = "苏宁易购官方旗舰店苹果11-tmall.com天猫</title>";

    let d = decode(&gbk_bytes, Some("text/html;charset=GBK"), host);
    assert_eq!(
        (d.encoding.name(), d.source),
        ("GBK", EncodingSource::Header)
    );
    assert!(!d.errors && d.text.contains(title));

    let d = decode(&utf8_bytes, Some("text/html; charset=gbk"), host);
    assert_eq!(
        (d.encoding.name(), d.source),
        ("UTF-8", EncodingSource::Utf8Bytes)
    );
    assert!(!d.errors && d.text.contains(title));

    // A header claiming UTF-8 for GBK bytes: detection (chardetng) finds GBK.
    let d = decode(&gbk_bytes, Some("text/html; charset=utf-8"), host);
    assert_eq!(
        (d.encoding.name(), d.source),
        ("GBK", EncodingSource::Detected)
    );
    assert!(!d.errors && d.text.contains(title));
}

#[test]
fn taobao_item_page_utf8_declaring_gbk_is_utf8() {
    check(
        "taobao_tmall_ogs_pages/taobao.html",
        "item.taobao.com",
        "UTF-8",
        EncodingSource::Utf8Bytes,
        &[
            "<title>乳白亚克力外壳 60%键盘外壳 poker外壳无加强筋底壳透光外壳-淘宝网</title>",
            "品牌:&nbsp;KBDfans",
            "怡科外设KBDfans",
        ],
    );
}

#[test]
fn taobao_search_page_meta_after_100_kb() {
    check(
        "taobao_search_python3webspider/taobao_search_ipad.html",
        "s.taobao.com",
        "UTF-8",
        EncodingSource::Meta,
        &[
            "<title>ipad_淘宝搜索</title>",
            "2018新款 Apple/苹果 9.7英寸",
            "51601人付款",
            "江苏 南京",
        ],
    );
}

// --- Dangdang: GBK bytes declaring GB2312 ------------------------------------

#[test]
fn dangdang_gb2312_label_decodes_as_gbk() {
    check(
        "dangdang_limitfree/dangdang_e_book_store.html",
        "e.dangdang.com",
        "GBK",
        EncodingSource::Meta,
        &[
            "<title>当当数字馆(公测版)【e.dangdang.com】-全球最大的中文电子书刊分销平台</title>",
            "当当数字馆，网上购物，网上商城，网上买书，电子书",
        ],
    );
}

// --- Pages in other languages (UTF-8) ----------------------------------------

#[test]
fn english_and_other_pages_are_utf8() {
    check(
        "taobao_tmall_ogs_pages/ebay.html",
        "www.ebay.com",
        "UTF-8",
        // No charset anywhere: valid UTF-8 bytes are taken as UTF-8.
        EncodingSource::Detected,
        &["Outdoor Wicker Patio Furniture Sofa 3 Seater Luxury Comfort Brown Wicker Couch"],
    );
    check(
        "taobao_tmall_ogs_pages/bestbuy.html",
        "www.bestbuy.com",
        "UTF-8",
        EncodingSource::Meta,
        &["<title>Apple iPhone 6s 64GB Gray MKRY2LL/A - Best Buy</title>"],
    );
    check(
        "taobao_tmall_ogs_pages/newegg.html",
        "www.newegg.com",
        "UTF-8",
        EncodingSource::Meta,
        &["XYZprinting da Vinci 2.0 Duo"],
    );
    check(
        "taobao_tmall_ogs_pages/smile_amazon_book.html",
        "smile.amazon.com",
        // The first <meta> says utf-8; a later iso-8859-1 one is not believed.
        "UTF-8",
        EncodingSource::Meta,
        &["Node.js the Right Way: Practical, Server-Side JavaScript That Scales"],
    );
    check(
        "taobao_tmall_ogs_pages/aliexpress.html",
        "he.aliexpress.com",
        "UTF-8",
        EncodingSource::Meta,
        &["מקורי Apple iPhone SE סמארטפון"],
    );
    check(
        "amazon_product_metascraper/amazon-com_B0057OC5O8_sainsmart_relay.html",
        "www.amazon.com",
        "UTF-8",
        EncodingSource::Meta,
        &["Amazon.com: SainSmart 4-Channel Relay Module : Automotive"],
    );
    check(
        "amazon_product_metascraper/amazon-es_B01MUGXRT9_cecotec_windroid.html",
        "www.amazon.es",
        "UTF-8",
        EncodingSource::Meta,
        &[
            "Cecotec Robot Limpiacristales Windroid 880 SprayWater Smart Connected",
            "Descripción del producto",
        ],
    );
}

/// Every page in the fixture folder is covered above (a new page must be added).
#[test]
fn every_fixture_page_is_checked() {
    let dir = pages_dir();
    if !dir.is_dir() {
        println!("skipped: ../shared absent ({})", dir.display());
        return;
    }
    let mut pages = Vec::new();
    for folder in std::fs::read_dir(&dir).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&folder).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "html") {
                let rel = f
                    .strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                pages.push(rel);
            }
        }
    }
    pages.sort();
    let checked = [
        "amazon_product_metascraper/amazon-com_B0057OC5O8_sainsmart_relay.html",
        "amazon_product_metascraper/amazon-es_B01MUGXRT9_cecotec_windroid.html",
        "dangdang_limitfree/dangdang_e_book_store.html",
        "jd_search_yaohuiwu/item.html",
        "jd_search_yaohuiwu/items.html",
        "jd_search_yaohuiwu/jd_search.html",
        "taobao_search_python3webspider/taobao_search_ipad.html",
        "taobao_tmall_ogs_pages/aliexpress.html",
        "taobao_tmall_ogs_pages/bestbuy.html",
        "taobao_tmall_ogs_pages/ebay.html",
        "taobao_tmall_ogs_pages/newegg.html",
        "taobao_tmall_ogs_pages/smile_amazon_book.html",
        "taobao_tmall_ogs_pages/taobao.html",
        "taobao_tmall_ogs_pages/tmall.html",
        "taobao_tmall_ogs_pages/tmall_2020_utf8_original.html",
    ];
    assert_eq!(pages, checked, "fixture pages changed: update this test");
}
