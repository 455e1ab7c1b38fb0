//! The shipped platform adapters (`config/platforms/*.toml`) against real saved
//! pages (`../shared/fixtures/pages`): what each one extracts, value by value.
//! Tests that need the pages skip (and say so) when `../shared` is absent.

use cccwatch::certdb::catalog::Catalog;
use cccwatch::crawl::decode::decode;
use cccwatch::extract::{Adapter, Fields, ItemPage, SearchPage};
use std::path::{Path, PathBuf};
use url::Url;

fn platforms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/platforms")
}

fn adapter(name: &str) -> Adapter {
    let path = platforms_dir().join(format!("{name}.toml"));
    Adapter::from_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// The decoded text of a saved page, as if fetched from `host` without a
/// Content-Type header; `None` (and a note) when the fixtures are absent.
fn page(rel: &str, host: &str) -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/pages");
    if !dir.is_dir() {
        println!("skipped: ../shared absent ({})", dir.display());
        return None;
    }
    let path = dir.join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let d = decode(&bytes, None, Some(host));
    assert!(!d.errors, "{rel}: decoding errors");
    Some(d.text)
}

fn url(u: &str) -> Url {
    Url::parse(u).unwrap()
}

fn search(a: &Adapter, rel: &str, page_url: &str) -> Option<SearchPage> {
    let u = url(page_url);
    let text = page(rel, u.host_str().unwrap())?;
    Some(a.search_page(&text, &u))
}

fn item(a: &Adapter, rel: &str, page_url: &str) -> Option<ItemPage> {
    let u = url(page_url);
    let text = page(rel, u.host_str().unwrap())?;
    Some(a.item_page(&text, &u))
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(l, v)| (l.to_string(), v.to_string()))
        .collect()
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// --- every adapter ------------------------------------------------------------

#[test]
fn every_shipped_adapter_loads() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(platforms_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let a = Adapter::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!a.config.label.is_empty(), "{}: no label", path.display());
            names.push(a.name().to_string());
        }
    }
    for name in ["jd", "taobao", "tmall"] {
        assert!(names.iter().any(|n| n == name), "{name}.toml missing");
    }
}

/// Seed keywords of the real platforms are catalog keywords of the group they
/// are filed under, so that what is searched is in CCC scope.
#[test]
fn seed_keywords_come_from_the_catalog() {
    let catalog = Catalog::embedded();
    for name in ["jd", "taobao", "tmall"] {
        let a = adapter(name);
        let groups: Vec<&String> = a.config.keywords.keys().collect();
        assert_eq!(groups, ["家用电器", "插头插座开关", "玩具"], "{name}");
        for (group, words) in &a.config.keywords {
            assert!(!words.is_empty(), "{name}: group {group} has no keywords");
            for w in words {
                assert!(
                    catalog
                        .entries()
                        .iter()
                        .any(|e| &e.group == group && e.keywords.contains(w)),
                    "{name}: {w:?} is not a catalog keyword of group {group}"
                );
            }
        }
    }
}

#[test]
fn real_platforms_are_polite_and_obey_robots() {
    for name in ["jd", "taobao", "tmall"] {
        let c = adapter(name).config;
        assert_eq!(c.robots, cccwatch::extract::RobotsPolicy::Obey, "{name}");
        assert!(!c.allow_private_addresses, "{name}");
        assert!(c.politeness.requests_per_second <= 1.0, "{name}");
        assert_eq!(c.politeness.burst, 1, "{name}");
        assert!(c.politeness.concurrency <= 2, "{name}");
    }
}

#[test]
fn search_and_item_urls() {
    let jd = adapter("jd");
    assert_eq!(
        jd.search_url("插座", 1),
        "https://search.jd.com/Search?keyword=%E6%8F%92%E5%BA%A7&enc=utf-8&page=1"
    );
    assert_eq!(
        jd.search_url("电热水壶", 3).rsplit('&').next(),
        Some("page=3")
    );
    assert!(!jd.config.item.fetch, "JD item pages are not verified");
    assert_eq!(
        jd.item_id_of("https://item.jd.com/11371342.html#comment"),
        Some("11371342".into())
    );
    assert_eq!(
        jd.item_id_of("https://e.jd.com/30050381.html"),
        Some("30050381".into())
    );
    assert_eq!(
        jd.item_id_of("https://search.jd.com/Search?keyword=123"),
        None
    );
    assert_eq!(
        jd.canonical_item_url(Some("11371342"), None).as_deref(),
        Some("https://item.jd.com/11371342.html")
    );

    let tmall = adapter("tmall");
    assert_eq!(
        tmall.search_url("插座", 1),
        "https://list.tmall.com/search_product.htm?q=%E6%8F%92%E5%BA%A7"
    );
    assert!(tmall.config.item.fetch);
    assert_eq!(
        tmall.item_id_of("https://detail.tmall.com/item.htm?spm=a1.b&id=605258110430&skuId=42"),
        Some("605258110430".into())
    );
    assert_eq!(
        tmall
            .canonical_item_url(Some("605258110430"), None)
            .as_deref(),
        Some("https://detail.tmall.com/item.htm?id=605258110430")
    );

    let taobao = adapter("taobao");
    assert_eq!(
        taobao.search_url("电吹风", 1),
        "https://s.taobao.com/search?q=%E7%94%B5%E5%90%B9%E9%A3%8E"
    );
    assert_eq!(
        taobao.config.search.max_pages, 1,
        "offset paging: first page only"
    );
    assert!(taobao.hosts().iter().any(|h| h == "detail.tmall.com:443"));
    assert_eq!(
        taobao
            .canonical_item_url(Some("562283240178"), None)
            .as_deref(),
        Some("https://item.taobao.com/item.htm?id=562283240178")
    );
}

// --- JD search pages ------------------------------------------------------------

const JD_SEARCH: &str = "https://search.jd.com/Search?keyword=123&enc=utf-8&page=1";

#[test]
fn jd_search_page_cards() {
    let jd = adapter("jd");
    let Some(p) = search(&jd, "jd_search_yaohuiwu/jd_search.html", JD_SEARCH) else {
        return;
    };
    assert_eq!(p.cards.len(), 60);
    // The 2016 page has no shop names (JD loaded them by JavaScript then);
    // every other selector finds something.
    assert_eq!(
        p.unmatched,
        ["search.fields.seller", "search.fields.shop_url"],
        "unmatched selectors"
    );
    assert_eq!(p.next, None, "no next_page selector: pages are counted");

    let mut ids = Vec::new();
    let mut ebooks = 0;
    for (i, c) in p.cards.iter().enumerate() {
        let id = jd
            .card_item_id(c)
            .unwrap_or_else(|| panic!("card {i}: no id"));
        assert!(is_digits(&id), "card {i}: id {id:?}");
        let title = c.fields.title.as_deref().unwrap_or("");
        assert!(!title.is_empty(), "card {i}: no title");
        let price = c.fields.price.as_deref().unwrap_or("");
        assert!(
            price.parse::<f64>().is_ok_and(|p| p > 0.0),
            "card {i}: price {price:?}"
        );
        // The link names the same SKU as data-sku (item.jd.com, or e.jd.com
        // for the 2 e-books).
        let link = c.link.as_deref().unwrap();
        assert_eq!(jd.item_id_of(link), Some(id.clone()), "card {i}: {link}");
        ebooks += usize::from(link.starts_with("https://e.jd.com/"));
        assert_eq!(
            jd.canonical_item_url(Some(&id), c.link.as_deref()),
            Some(format!("https://item.jd.com/{id}.html"))
        );
        ids.push(id);
    }
    assert_eq!(ebooks, 2);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "item IDs are distinct");

    let first = &p.cards[0];
    assert_eq!(first.item_id.as_deref(), Some("11371342"));
    assert_eq!(
        first.link.as_deref(),
        Some("https://item.jd.com/11371342.html")
    );
    assert_eq!(first.fields.title.as_deref(), Some("123成人式"));
    assert_eq!(first.fields.price.as_deref(), Some("25.20"));

    let second = &p.cards[1];
    assert_eq!(second.item_id.as_deref(), Some("1195464225"));
    assert_eq!(
        second.fields.title.as_deref(),
        Some("卡罗德Carod钢琴T23立式家用教学 黑色")
    );
    assert_eq!(second.fields.price.as_deref(), Some("16899.00"));

    let last = &p.cards[59];
    assert_eq!(last.item_id.as_deref(), Some("1715729143"));
    assert_eq!(
        last.fields.title.as_deref(),
        Some("大显（Daxian）JL123 移动联通2G 老人手机 单卡单待 手机 黑色")
    );
    assert_eq!(last.fields.price.as_deref(), Some("59.00"));
}

/// With item pages off, a card is the listing the matcher sees.
#[test]
fn jd_card_becomes_the_listing() {
    let jd = adapter("jd");
    let Some(p) = search(&jd, "jd_search_yaohuiwu/jd_search.html", JD_SEARCH) else {
        return;
    };
    let c = &p.cards[4];
    let id = jd.card_item_id(c).unwrap();
    let url = jd.canonical_item_url(Some(&id), c.link.as_deref());
    let l = jd.listing(&id, url, c.fields.clone());
    assert_eq!(l.platform, "jd");
    assert_eq!(l.item_id, "10130338635");
    assert_eq!(
        l.url.as_deref(),
        Some("https://item.jd.com/10130338635.html")
    );
    assert_eq!(
        l.title,
        "[念琴琴行]全新凯美钢琴KAIMEI/UP123实木教学初学者立式钢琴正品 UP123黑色"
    );
    assert_eq!(l.price.as_deref(), Some("15600.00"));
    assert_eq!((l.brand, l.model, l.params.len()), (None, None, 0));
}

#[test]
fn jd_fragments_without_head() {
    let jd = adapter("jd");
    // 60 cards loaded by JD's ajax call (no <html>, no <head>).
    let Some(p) = search(&jd, "jd_search_yaohuiwu/items.html", JD_SEARCH) else {
        return;
    };
    assert_eq!(p.cards.len(), 60);
    assert!(
        p.cards
            .iter()
            .all(|c| { c.item_id.as_deref().is_some_and(is_digits) && c.fields.title.is_some() })
    );
    // One card alone.
    let Some(p) = search(&jd, "jd_search_yaohuiwu/item.html", JD_SEARCH) else {
        return;
    };
    assert_eq!(p.cards.len(), 1);
    let c = &p.cards[0];
    assert_eq!(c.item_id.as_deref(), Some("10115073321"));
    assert_eq!(
        c.link.as_deref(),
        Some("https://item.jd.com/10115073321.html")
    );
    assert_eq!(c.fields.price.as_deref(), Some("50.90"));
    // The keyword highlight <font>123</font> is read as plain text.
    assert_eq!(
        c.fields.title.as_deref(),
        Some(
            "免邮满一送一6层加大码10条装婴儿纱布吸汗巾纯棉宝宝隔汗巾全棉垫背巾儿童汗巾XY123 颜色随机 6层加大码"
        )
    );
}

// --- Tmall item page (GBK and UTF-8 copies) ----------------------------------------

const TMALL_ITEM: &str = "https://detail.tmall.com/item.htm?id=605258110430";
const TMALL_TITLE: &str =
    "【官网价直降】Apple/苹果 iPhone 11 4G全网通智能手机正品苏宁易购官方旗舰店苹果11";

fn assert_tmall_fields(f: &Fields, who: &str) {
    assert_eq!(f.title.as_deref(), Some(TMALL_TITLE), "{who}");
    assert!(
        f.title.as_deref().unwrap().contains("苹果 iPhone 11"),
        "{who}"
    );
    // "5499.00-6799.00": the lowest price of the range.
    assert_eq!(f.price.as_deref(), Some("5499.00"), "{who}");
    assert_eq!(f.seller.as_deref(), Some("苏宁易购官方旗舰店"), "{who}");
    assert_eq!(
        f.shop_url.as_deref(),
        Some("https://suning.tmall.com/"),
        "{who}"
    );
    assert_eq!(f.brand.as_deref(), Some("Apple/苹果"), "{who}");
    assert_eq!(f.model, None, "{who}");
    assert_eq!(
        f.spec,
        pairs(&[
            ("品牌名称", "Apple/苹果"),
            ("产品名称", "Apple/苹果 iPhone 11"),
            ("Apple型号", "iPhone 11"),
            ("机身颜色", "红色 白色 黑色 黄色 绿色 紫色"),
            ("存储容量", "64GB 128GB 256GB"),
        ]),
        "{who}"
    );
}

#[test]
fn tmall_item_page_gbk_and_utf8_give_the_same_fields() {
    let tmall = adapter("tmall");
    let (Some(gbk), Some(utf8)) = (
        item(&tmall, "taobao_tmall_ogs_pages/tmall.html", TMALL_ITEM),
        item(
            &tmall,
            "taobao_tmall_ogs_pages/tmall_2020_utf8_original.html",
            TMALL_ITEM,
        ),
    ) else {
        return;
    };
    assert_tmall_fields(&gbk.fields, "tmall.html (GBK)");
    assert_tmall_fields(&utf8.fields, "tmall_2020_utf8_original.html (UTF-8)");
    assert_eq!(gbk.fields, utf8.fields);
    for p in [&gbk, &utf8] {
        assert!(p.unmatched.is_empty(), "unmatched: {:?}", p.unmatched);
        assert!(!p.gone);
    }
    // The item page is not mistaken for a result page (the CLI's auto mode).
    let text = page("taobao_tmall_ogs_pages/tmall.html", "detail.tmall.com").unwrap();
    assert!(tmall.search_page(&text, &url(TMALL_ITEM)).cards.is_empty());
}

#[test]
fn tmall_listing_carries_brand_and_spec_rows() {
    let tmall = adapter("tmall");
    let Some(p) = item(&tmall, "taobao_tmall_ogs_pages/tmall.html", TMALL_ITEM) else {
        return;
    };
    let l = tmall.listing("605258110430", Some(TMALL_ITEM.into()), p.fields);
    assert_eq!(l.platform, "tmall");
    assert_eq!(l.brand.as_deref(), Some("Apple/苹果"));
    assert_eq!(
        l.params_labelled(&["品牌名称"]).collect::<Vec<_>>(),
        ["Apple/苹果"]
    );
    assert_eq!(l.params.len(), 5);
}

/// Taobao search lists Tmall items; the taobao adapter reads their pages
/// through its Tmall alternatives, to the same fields.
#[test]
fn taobao_adapter_reads_tmall_item_pages_too() {
    let (tmall, taobao) = (adapter("tmall"), adapter("taobao"));
    let (Some(by_tmall), Some(by_taobao)) = (
        item(&tmall, "taobao_tmall_ogs_pages/tmall.html", TMALL_ITEM),
        item(&taobao, "taobao_tmall_ogs_pages/tmall.html", TMALL_ITEM),
    ) else {
        return;
    };
    assert!(by_taobao.unmatched.is_empty(), "{:?}", by_taobao.unmatched);
    // The taobao adapter has no brand selector (see taobao.toml); the brand
    // reaches the matcher through the 品牌名称 spec row.
    let mut expected = by_tmall.fields.clone();
    expected.brand = None;
    assert_eq!(by_taobao.fields, expected);
}

// --- Taobao item page ---------------------------------------------------------------

#[test]
fn taobao_item_page() {
    let taobao = adapter("taobao");
    let Some(p) = item(
        &taobao,
        "taobao_tmall_ogs_pages/taobao.html",
        "https://item.taobao.com/item.htm?id=562283240178",
    ) else {
        return;
    };
    assert!(p.unmatched.is_empty(), "unmatched: {:?}", p.unmatched);
    assert!(!p.gone);
    let f = &p.fields;
    assert_eq!(
        f.title.as_deref(),
        Some("乳白亚克力外壳 60%键盘外壳 poker外壳无加强筋底壳透光外壳")
    );
    // "149.00 - 159.00": the lowest price of the range.
    assert_eq!(f.price.as_deref(), Some("149.00"));
    assert_eq!(f.seller.as_deref(), Some("怡科外设KBDfans"));
    assert_eq!(
        f.shop_url.as_deref(),
        Some("https://yikewaishe.taobao.com/")
    );
    assert_eq!((f.brand.as_deref(), f.model.as_deref()), (None, None));
    assert_eq!(
        f.spec,
        pairs(&[
            ("品牌", "KBDfans"),
            ("型号", "乳白外壳"),
            ("接口类型", "黑色（PS/2）；白色（USB）"),
            ("颜色分类", "glow in the dark clear"),
            ("套餐类型", "官方标配"),
            ("连接方式", "无线"),
            ("是否有多媒体功能键", "有"),
            ("是否支持人体工程学", "支持"),
        ])
    );
    // Brand and model reach the matcher through the spec rows.
    let l = taobao.listing("562283240178", None, p.fields);
    assert_eq!(
        l.params_labelled(&["品牌"]).collect::<Vec<_>>(),
        ["KBDfans"]
    );
    assert_eq!(
        l.params_labelled(&["型号"]).collect::<Vec<_>>(),
        ["乳白外壳"]
    );
}

// --- Taobao search page --------------------------------------------------------------

const TAOBAO_SEARCH: &str = "https://s.taobao.com/search?q=ipad";

#[test]
fn taobao_search_page_cards() {
    let taobao = adapter("taobao");
    let Some(p) = search(
        &taobao,
        "taobao_search_python3webspider/taobao_search_ipad.html",
        TAOBAO_SEARCH,
    ) else {
        return;
    };
    assert_eq!(p.cards.len(), 48);
    assert!(p.unmatched.is_empty(), "unmatched: {:?}", p.unmatched);
    assert_eq!(p.next, None);

    let mut ids = Vec::new();
    let mut tmall_links = 0;
    for (i, c) in p.cards.iter().enumerate() {
        let id = c
            .item_id
            .clone()
            .unwrap_or_else(|| panic!("card {i}: no id"));
        assert!(is_digits(&id), "card {i}: id {id:?}");
        let link = c.link.as_deref().unwrap();
        assert_eq!(
            taobao.item_id_of(link),
            Some(id.clone()),
            "card {i}: {link}"
        );
        let host = url(link).host_str().unwrap().to_string();
        let key = cccwatch::extract::host_key(&url(link));
        assert!(taobao.hosts().contains(&key), "card {i}: link to {key}");
        tmall_links += usize::from(host == "detail.tmall.com");
        let f = &c.fields;
        assert!(
            f.title.as_deref().is_some_and(|t| !t.is_empty()),
            "card {i}: title"
        );
        assert!(
            f.price.as_deref().is_some_and(|p| p.parse::<f64>().is_ok()),
            "card {i}: price {:?}",
            f.price
        );
        assert!(
            f.seller.as_deref().is_some_and(|s| !s.is_empty()),
            "card {i}: shop"
        );
        ids.push(id);
    }
    assert_eq!(tmall_links, 46, "Taobao search lists Tmall items too");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 48);

    let first = &p.cards[0];
    assert_eq!(first.item_id.as_deref(), Some("566741234264"));
    assert_eq!(
        first.fields.title.as_deref(),
        Some("2018新款 Apple/苹果 9.7英寸iPad 智能平板电脑 正品国行新品")
    );
    assert_eq!(first.fields.price.as_deref(), Some("2288.00"));
    assert_eq!(first.fields.seller.as_deref(), Some("苏宁易购官方旗舰店"));
    assert_eq!(
        taobao.canonical_item_url(first.item_id.as_deref(), first.link.as_deref()),
        Some("https://item.taobao.com/item.htm?id=566741234264".into())
    );

    let last = &p.cards[47];
    assert_eq!(last.item_id.as_deref(), Some("564996303586"));
    assert_eq!(
        last.link.as_deref(),
        Some("https://item.taobao.com/item.htm?id=564996303586&ns=1&abbucket=1#detail")
    );
    assert_eq!(
        last.fields.title.as_deref(),
        Some("苹果平板电脑 ipad迷你2 WiFi版 mini4 现货即发 特价促销")
    );
    assert_eq!(last.fields.price.as_deref(), Some("1180.00"));
    assert_eq!(last.fields.seller.as_deref(), Some("葛给力服饰"));
}

/// A card's protocol-relative shop link (`//store.taobao.com/...`) is made
/// absolute against the page URL, as item pages' shop links are.
#[test]
fn taobao_search_card_shop_url_is_absolute() {
    let taobao = adapter("taobao");
    let Some(p) = search(
        &taobao,
        "taobao_search_python3webspider/taobao_search_ipad.html",
        TAOBAO_SEARCH,
    ) else {
        return;
    };
    assert_eq!(
        p.cards[0].fields.shop_url.as_deref(),
        Some("https://store.taobao.com/shop/view_shop.htm?user_number_id=2616970884")
    );
}
