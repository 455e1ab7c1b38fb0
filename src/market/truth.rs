//! The full listing behind an item page ([`ItemTruth`]): the generated core
//! plus price, shop, spec rows, description and page layout.

use super::generate::{self, Core, Kind};
use super::params;
use super::products::TYPES;
use super::rng::{stream, weighted};
use super::shops::{SellerKind, Shops};
use super::text::CertPlace;
use super::vocab::{ACCESSORIES, MARKETING};
use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::{IndexedRandom, SliceRandom};
use serde::Serialize;

/// What an item page shows, for tests and evaluations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemTruth {
    pub id: String,
    pub title: String,
    /// The brand as written in the spec table (`BULL/公牛`, `公午`).
    pub brand: String,
    /// The brand of `brands.csv` behind it (the real one for look-alikes;
    /// the shown name for brands that are in no table).
    pub brand_canonical: String,
    /// The model as shown ("" for some accessories).
    pub model: String,
    /// The cited certificate number, 16 digits, when the page cites one.
    pub cert_no: Option<String>,
    /// The number as written on the page (grouped, full-width, labelled).
    pub cert_no_shown: Option<String>,
    /// Where the number is cited: "spec", "title" or "description".
    pub cert_location: Option<&'static str>,
    /// Price in yuan (the page shows it with two decimals).
    pub price: f64,
    /// The shop name (`公牛官方旗舰店`, `星河电器专营店`).
    pub seller: String,
    /// The shop id: its page is `/shop/{shop}.html`.
    pub shop: String,
    /// Category path (`家装主材>电工电料>插座/排插`).
    pub category: String,
    /// Product group: 插头插座开关, 家用电器 or 玩具.
    pub group: &'static str,
    /// Catalog product code of the product (None for accessories).
    pub product_code: Option<&'static str>,
    /// The intended case: valid, valid_no_number, no_cert, expired_cert,
    /// suspended_cert, revoked_cert, cancelled_cert, wrong_company,
    /// model_off_by_one, lookalike_brand, cert_not_found, out_of_scope.
    pub kind: &'static str,
    /// Spec rows (label, full value) in page order.
    pub spec: Vec<(String, String)>,
    /// Description paragraphs separated by `\n` (U+00A0 where the page has `&nbsp;`).
    pub description: String,
    /// Spec layout: "dl.spec", "table.spec", "ul.parameter" or "ul.attr".
    pub spec_layout: &'static str,
    /// "gbk" or "utf-8".
    pub charset: &'static str,
}

/// The four spec-table layouts.
pub(crate) const LAYOUTS: [&str; 4] = ["dl.spec", "table.spec", "ul.parameter", "ul.attr"];

/// The listing at `index`, shown under `id`.
pub(crate) fn build(seed: u64, index: u64, id: String, gbk: bool) -> ItemTruth {
    let core = generate::core(seed, index);
    let mut rng = stream(seed, index, 2);
    let price = price(&mut rng, &core);
    let seller = seller(&mut rng, &core);
    let spec = spec_rows(&mut rng, &core);
    let description = description(&mut rng, &core);
    let layout = LAYOUTS[rng.random_range(0..4)];
    ItemTruth {
        id,
        shop: Shops::get().id(&seller),
        title: core.title,
        brand: core.brand,
        brand_canonical: core.brand_canonical,
        model: core.model,
        cert_no: core.cert_no,
        cert_no_shown: core.cert_shown,
        cert_location: core.cert_place.as_str(),
        price,
        seller,
        category: core.category.to_string(),
        group: super::products::GROUPS[core.group],
        product_code: core.ptype.map(|t| TYPES[t].code),
        kind: core.kind.as_str(),
        spec,
        description,
        spec_layout: layout,
        charset: if gbk { "gbk" } else { "utf-8" },
    }
}

fn price(rng: &mut SmallRng, core: &Core) -> f64 {
    let (lo, hi) = match core.ptype {
        Some(t) => TYPES[t].price,
        None => ACCESSORIES
            .iter()
            .find(|a| core.title.contains(a.1))
            .map_or((5, 50), |a| a.3),
    };
    let u: f64 = rng.random();
    let mut yuan = lo as f64 + (hi - lo) as f64 * u * u;
    if matches!(core.kind, Kind::NoCert | Kind::Lookalike) {
        yuan = (yuan * 0.5).max(lo as f64 * 0.5);
    }
    let cents = *[0u32, 90, 99, 80, 50, 0].choose(rng).expect("cents");
    (yuan.floor().max(1.0) * 100.0 + cents as f64) / 100.0
}

fn seller(rng: &mut SmallRng, core: &Core) -> String {
    use SellerKind::*;
    let table: &[(SellerKind, u32)] = match core.kind {
        Kind::Valid | Kind::ValidNoNumber => &[(Brand, 55), (Distributor, 30), (Small, 15)],
        Kind::WrongCompany | Kind::Lookalike | Kind::NoCert | Kind::OutOfScope => {
            &[(Distributor, 30), (Small, 70)]
        }
        _ => &[(Brand, 25), (Distributor, 40), (Small, 35)],
    };
    let kind = weighted(rng, table);
    let pick = rng.random_range(0..64);
    Shops::get()
        .name(kind, core.group, &core.brand_canonical, pick)
        .to_string()
}

fn spec_rows(rng: &mut SmallRng, core: &Core) -> Vec<(String, String)> {
    let mut rows = vec![("品牌".to_string(), core.brand.clone())];
    if !core.model.is_empty() {
        let label = weighted(rng, &[("型号", 70), ("产品型号", 15), ("规格型号", 15)]);
        rows.push((label.to_string(), core.model.clone()));
    }
    let own = core.ptype.map_or(params::ACCESSORY, |t| TYPES[t].params);
    let pool: Vec<_> = params::COMMON[core.group].iter().chain(own).collect();
    let n = rng.random_range(3..=8).min(pool.len());
    let mut rest: Vec<(String, String)> = pool
        .choose_multiple(rng, n)
        .map(|(label, values)| {
            let v = match (*label, core.watts) {
                ("额定功率", w) if w > 0 => format!("{w}W"),
                _ => values.choose(rng).expect("values").to_string(),
            };
            (label.to_string(), v)
        })
        .collect();
    rest.shuffle(rng);
    if let (CertPlace::Spec, Some(shown)) = (core.cert_place, &core.cert_shown) {
        let label = weighted(
            rng,
            &[
                ("3C证书编号", 45),
                ("CCC证书编号", 25),
                ("认证编号", 15),
                ("证书编号", 15),
            ],
        );
        let at = rng.random_range(0..=rest.len().min(2));
        rest.insert(at, (label.to_string(), shown.clone()));
        if rng.random_bool(0.15) && !core.model.is_empty() {
            rest.insert(at + 1, ("3C规格型号".to_string(), core.model.clone()));
        }
    }
    rows.extend(rest);
    rows
}

fn description(rng: &mut SmallRng, core: &Core) -> String {
    let (b, m) = (&core.brand, &core.model);
    let group_line = [
        "采用阻燃材料，儿童保护门设计，安全放心。",
        "多重安全防护，家用更安心。",
        "圆角设计，不伤宝宝小手，适合亲子互动。",
    ][core.group];
    let mut lines = vec![
        format!("{b} {m} 官方正品，支持以旧换新"),
        "厂家直发，七天无理由退换。".to_string(),
        "正品保障\u{a0}假一赔十\u{a0}全国联保".to_string(),
        format!("品牌：{b}\u{a0}\u{a0}型号：{m}"),
        group_line.to_string(),
        format!("{}，欢迎选购。", MARKETING.choose(rng).expect("marketing")),
    ];
    lines.shuffle(rng);
    lines.truncate(rng.random_range(2..=3));
    if let (CertPlace::Description, Some(shown), Some(no)) =
        (core.cert_place, &core.cert_shown, &core.cert_no)
    {
        let line = match rng.random_range(0..3) {
            0 => format!("本产品已通过国家3C认证，证书编号：{shown}"),
            // A number glued to the model, as some sellers write it.
            2 if shown == no => format!("3C证书编号{no}{m} 请放心购买"),
            _ => format!("CCC认证证书号 {shown}"),
        };
        let at = rng.random_range(0..=lines.len());
        lines.insert(at, line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truths_are_consistent() {
        for i in 0..500 {
            let t = build(9, i, format!("{i}"), i % 2 == 0);
            assert!(t.price >= 0.5, "{}", t.price);
            assert!(t.spec.len() >= 4, "{:?}", t.spec);
            assert_eq!(t.spec[0], ("品牌".to_string(), t.brand.clone()));
            if t.cert_location == Some("spec") {
                let shown = t.cert_no_shown.as_ref().unwrap();
                assert!(t.spec.iter().any(|(_, v)| v == shown));
            }
            if t.cert_location == Some("title") {
                assert!(t.title.contains(t.cert_no_shown.as_deref().unwrap()));
            }
            assert_eq!(Shops::get().by_id(&t.shop), Some(t.seller.as_str()));
        }
    }

    #[test]
    fn every_text_is_encodable_in_gbk() {
        for i in 0..3000 {
            let t = build(5, i, format!("{i}"), true);
            let rows: Vec<String> = t.spec.iter().map(|(k, v)| format!("{k}{v}")).collect();
            let text = format!("{}{}{}{}", t.title, t.seller, t.description, rows.concat());
            // U+00A0 is written `&nbsp;` on the page.
            let (_, _, unmappable) = encoding_rs::GBK.encode(&text.replace('\u{a0}', " "));
            assert!(!unmappable, "{text}");
        }
    }
}
