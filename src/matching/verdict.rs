//! The verdict rules: scope, cited numbers, coverage (brand and model),
//! status on the as-of date, and the uncited brand + model search. Every
//! verdict comes with a confidence and reasons in Chinese.

use crate::certdb::catalog::{Catalog, CatalogEntry, TextScope};
use crate::domain::{Finding, Listing, Verdict};
use crate::matching::brand::{BrandTable, ListingBrand};
use crate::matching::index::{CertEntry, CertIndex};
use crate::matching::model::{ListingModel, explicit_models, title_models};
use crate::matching::scope::{self, ScopeCall, Signals, SpecSignals};
use crate::text::certno::{self, FieldValue};
use crate::text::normalize::{fold_width, is_cjk, label_key, name_key};
use crate::text::simplify::fold_scope;
use chrono::NaiveDate;

/// Something that judges listings. Implemented by [`Matcher`]; the pipeline
/// only needs this.
pub trait Judge: Sync {
    fn judge(&self, listing: &Listing) -> Finding;
}

/// The matcher: the certificate index, the alias table, the catalog and the
/// date statuses are judged on.
pub struct Matcher<'a> {
    pub index: &'a CertIndex,
    pub brands: &'a BrandTable,
    pub catalog: &'a Catalog,
    pub as_of: NaiveDate,
}

/// Spec-table labels that hold a certificate number (after `label_key`).
fn is_cert_label(label: &str) -> bool {
    let l = label_key(label);
    (l.contains("证书") && (l.contains("编号") || l.ends_with('号')))
        || matches!(
            l.as_str(),
            "3C证书" | "CCC证书" | "CCC认证编号" | "3C认证编号" | "CCC编号" | "3C编号"
        )
}

/// What the matcher extracted from one listing.
struct Facts {
    brand: ListingBrand,
    models: Vec<ListingModel>,
    models_from_title: bool,
    numbers: Vec<String>,
    nonstandard: Vec<String>,
}

/// Whether one side of a certificate (brand or model) covers the listing.
enum Cover {
    Yes(String),
    No(String, f32),
    Unknown(Option<String>),
}

struct Outcome<'c> {
    verdict: Verdict,
    confidence: f32,
    cert: Option<&'c CertEntry>,
    reasons: Vec<String>,
}

impl Judge for Matcher<'_> {
    fn judge(&self, listing: &Listing) -> Finding {
        let facts = self.facts(listing);
        let call = self.scope_with(listing, &facts);
        let (outcome, category_code, mut reasons) = match call {
            ScopeCall::Out { reason } => (
                Outcome {
                    verdict: Verdict::NotInScope,
                    confidence: 0.9,
                    cert: None,
                    reasons: Vec::new(),
                },
                None,
                vec![reason],
            ),
            ScopeCall::In {
                entry,
                reason,
                certain,
            } => {
                let mut outcome = self.judge_in_scope(&facts);
                if !certain {
                    outcome.confidence = outcome.confidence.min(UNCERTAIN_SCOPE_CONFIDENCE);
                }
                (outcome, entry.map(|e| e.code.clone()), vec![reason])
            }
        };
        reasons.extend(outcome.reasons);
        for n in &facts.nonstandard {
            reasons.push(format!(
                "证书编号栏填写“{n}”，不是标准的16位证书编号，按未标注证书处理"
            ));
        }
        Finding {
            verdict: outcome.verdict,
            confidence: outcome.confidence.clamp(0.0, 1.0),
            matched_cert: outcome.cert.map(|c| c.cert_no.to_string()),
            cert_numbers: facts.numbers.clone(),
            category_code: category_code.or_else(|| {
                outcome
                    .cert
                    .and_then(|c| c.category_code.as_deref().map(str::to_string))
            }),
            brand: self.brand_label(&facts.brand),
            model: facts.models.first().map(|m| m.written.clone()),
            reasons,
        }
    }
}

/// The highest confidence of a verdict whose scope is uncertain: such
/// listings sort to the bottom of the queue and say why.
pub const UNCERTAIN_SCOPE_CONFIDENCE: f32 = 0.5;

impl<'a> Matcher<'a> {
    pub fn new(
        index: &'a CertIndex,
        brands: &'a BrandTable,
        catalog: &'a Catalog,
        as_of: NaiveDate,
    ) -> Self {
        Matcher {
            index,
            brands,
            catalog,
            as_of,
        }
    }

    fn facts(&self, listing: &Listing) -> Facts {
        let mut numbers: Vec<String> = Vec::new();
        let mut nonstandard = Vec::new();
        for (label, value) in &listing.params {
            if !is_cert_label(label) {
                continue;
            }
            match certno::parse_field(value) {
                FieldValue::Numbers(ns) => push_unique(&mut numbers, ns),
                FieldValue::NonStandard(s) => nonstandard.push(s),
                FieldValue::Empty => {}
            }
        }
        let mut title = fold_width(&listing.title);
        let in_title = certno::find_in_folded(&title);
        // Blank the numbers out so their digits are not read as a model.
        for f in in_title.iter().rev() {
            title.replace_range(f.start..f.end, &" ".repeat(f.end - f.start));
        }
        push_unique(
            &mut numbers,
            in_title.into_iter().map(|f| f.number).collect(),
        );
        if let Some(d) = &listing.description {
            push_unique(
                &mut numbers,
                certno::find_in_text(d)
                    .into_iter()
                    .map(|f| f.number)
                    .collect(),
            );
        }
        let brand = self.identify_brand(listing);
        let explicit = explicit_models(listing);
        let (models, models_from_title) = if explicit.is_empty() {
            (title_models(&title), true)
        } else {
            (explicit, false)
        };
        Facts {
            brand,
            models,
            models_from_title,
            numbers,
            nonstandard,
        }
    }

    fn identify_brand(&self, listing: &Listing) -> ListingBrand {
        let field = listing
            .brand
            .iter()
            .map(String::as_str)
            .chain(listing.params_labelled(&["品牌", "BRAND", "品牌名称"]));
        for value in field {
            match self.brands.identify_field(value) {
                ListingBrand::None => continue,
                found => return found,
            }
        }
        match self.brands.find_in_title(&listing.title) {
            Some((brand, written)) => ListingBrand::Known { brand, written },
            None => ListingBrand::None,
        }
    }

    fn brand_label(&self, brand: &ListingBrand) -> Option<String> {
        match brand {
            ListingBrand::Known { brand, .. } => Some(self.brands.get(*brand).name.clone()),
            ListingBrand::Unknown { written, .. } => Some(written.clone()),
            ListingBrand::None => None,
        }
    }

    /// The scope decision for a listing (see [`crate::matching::scope`]).
    pub fn scope(&self, listing: &Listing) -> ScopeCall<'a> {
        let facts = self.facts(listing);
        self.scope_with(listing, &facts)
    }

    fn scope_with(&self, listing: &Listing, facts: &Facts) -> ScopeCall<'a> {
        let catalog: &'a Catalog = self.catalog;
        let cited_entry = facts
            .numbers
            .iter()
            .filter_map(|n| self.index.get(n))
            .find_map(|c| catalog.entry(c.category_code.as_deref()?));
        let title = catalog.read_text(&listing.title);
        let decided_by_words = matches!(
            title,
            TextScope::Product { .. } | TextScope::Accessory { .. }
        ) || !facts.numbers.is_empty();
        let mut signals = Signals {
            title,
            category: listing
                .category
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(|c| (c.to_string(), catalog.read_category(c))),
            spec: spec_signals(catalog, listing),
            description: TextScope::Silent,
            cited: facts.numbers.clone(),
            cited_entry,
            model_entry: None,
            brand_entry: None,
            brand_model: None,
            model: facts.models.first().map(|m| m.written.clone()),
            title_hint: None,
            title_part: None,
        };
        if !decided_by_words {
            signals.model_entry = self.model_entry(listing, facts);
            if let Some(d) = &listing.description {
                signals.description = catalog.read_text(d);
            }
            signals.brand_entry = self.brand_entry(facts);
            signals.brand_model = self.brand_model(listing, facts);
            signals.title_hint = catalog
                .hint_in(&listing.title)
                .or_else(|| child_age_in(&listing.title));
            signals.title_part = catalog.part_named(&listing.title);
        }
        scope::decide(&signals)
    }

    /// The product of a certificate of the listing's brand that covers its
    /// model. A brand the alias table does not know is the holder's when
    /// the holder's name contains it (`威力` in 广州威力电器有限公司): the
    /// brand field's value, or with no brand field the Chinese word that
    /// opens the title or stands right before the model (`威力XPB100-1088S`).
    fn model_entry(&self, listing: &Listing, facts: &Facts) -> Option<(&'a CatalogEntry, String)> {
        let catalog: &'a Catalog = self.catalog;
        let names: Vec<String> = match &facts.brand {
            ListingBrand::Known { brand, written } => {
                return facts.models.iter().find_map(|m| {
                    self.index
                        .by_model_key(&m.key)
                        .filter(|c| c.owners.contains(&(*brand as u32)))
                        .find_map(|c| catalog.entry(c.category_code.as_deref()?))
                        .map(|e| (e, written.clone()))
                });
            }
            ListingBrand::Unknown {
                lookalike: Some(_), ..
            } => return None,
            ListingBrand::Unknown { written, .. } => vec![written.clone()],
            ListingBrand::None => brand_words(&fold_width(&listing.title), &facts.models),
        };
        let keys: Vec<(String, &String)> = names
            .iter()
            .map(|n| (name_key(n), n))
            .filter(|(k, _)| k.chars().count() >= 2)
            .collect();
        facts.models.iter().find_map(|m| {
            self.index.by_model_key(&m.key).find_map(|c| {
                let holders = [name_key(&c.applicant), name_key(&c.manufacturer)];
                let (_, name) = keys
                    .iter()
                    .find(|(k, _)| holders.iter().any(|h| h.contains(k.as_str())))?;
                let entry = catalog.entry(c.category_code.as_deref()?)?;
                Some((entry, (*name).clone()))
            })
        })
    }

    /// A brand of the brand table, or else a maker of catalog products the
    /// brand field or the title names (`[hints] makers`), and the model the
    /// listing writes: the first one read, or a short one (`F9`, `M12`) right
    /// after the brand or its series name (`飞雕 F9`, `莱克 魔洁 M12`).
    fn brand_model(&self, listing: &Listing, facts: &Facts) -> Option<(String, String)> {
        let brand = match &facts.brand {
            ListingBrand::Known { written, .. } => written.clone(),
            ListingBrand::Unknown { written, .. } => self
                .catalog
                .maker_in(written)
                .or_else(|| self.catalog.maker_in(&listing.title))?,
            ListingBrand::None => self.catalog.maker_in(&listing.title)?,
        };
        let model = match facts.models.first() {
            Some(m) => m.written.clone(),
            None => short_model_after(&listing.title, &brand)?,
        };
        Some((brand, model))
    }

    /// The product most of the brand's certificates are for (two thirds or
    /// more of the first 500).
    fn brand_entry(&self, facts: &Facts) -> Option<(&'a CatalogEntry, String)> {
        let ListingBrand::Known { brand, written } = &facts.brand else {
            return None;
        };
        let mut counts: Vec<(&str, usize)> = Vec::new();
        let mut total = 0;
        for c in self.index.by_brand(*brand).take(500) {
            let Some(code) = c.category_code.as_deref() else {
                continue;
            };
            total += 1;
            match counts.iter_mut().find(|(k, _)| *k == code) {
                Some((_, n)) => *n += 1,
                None => counts.push((code, 1)),
            }
        }
        let (code, n) = counts.into_iter().max_by_key(|&(_, n)| n)?;
        let catalog: &'a Catalog = self.catalog;
        (n * 3 >= total * 2)
            .then(|| catalog.entry(code))
            .flatten()
            .map(|e| (e, written.clone()))
    }

    fn judge_in_scope(&self, facts: &Facts) -> Outcome<'a> {
        if facts.numbers.is_empty() {
            return self.judge_uncited(facts);
        }
        let mut outcomes: Vec<(Outcome<'a>, &String)> = facts
            .numbers
            .iter()
            .map(|n| (self.judge_number(n, facts), n))
            .collect();
        outcomes.sort_by_key(|(o, _)| o.verdict.citation_rank());
        let mut iter = outcomes.into_iter();
        let (mut best, _) = iter.next().expect("at least one number");
        for (other, n) in iter {
            best.reasons
                .push(format!("另引用证书编号 {n}：{}", other.verdict.label_zh()));
        }
        best
    }

    fn judge_number(&self, number: &str, facts: &Facts) -> Outcome<'a> {
        let Some(cert) = self.index.get(number) else {
            let mut reason = format!("商品引用的证书编号 {number} 在证书库中不存在");
            if let Some(near) = self.index.one_digit_away(number).first() {
                reason.push_str(&format!(
                    "（证书库中有仅一位数字不同的 {}，持有人{}；编号不同即不是同一张证书）",
                    near.cert_no, near.applicant
                ));
            }
            return Outcome {
                verdict: Verdict::CertNotFound,
                confidence: 0.95,
                cert: None,
                reasons: vec![reason],
            };
        };
        let brand = self.brand_cover(&facts.brand, cert);
        let model = self.model_cover(facts, cert);
        let mut reasons = Vec::new();
        let mut confidence: f32 = 0.97;
        let mut mismatch: Option<f32> = None;
        for cover in [brand, model] {
            match cover {
                Cover::Yes(r) => reasons.push(r),
                Cover::No(r, c) => {
                    reasons.push(r);
                    mismatch = Some(mismatch.map_or(c, |m| m.max(c)));
                }
                Cover::Unknown(r) => {
                    confidence -= 0.07;
                    reasons.extend(r);
                }
            }
        }
        if let Some(c) = mismatch {
            reasons.insert(0, format!("证书 {number} 不能证明该商品已获认证"));
            return Outcome {
                verdict: Verdict::CertMismatch,
                confidence: c,
                cert: Some(cert),
                reasons,
            };
        }
        let (verdict, since) = cert.verdict_on(self.as_of);
        reasons.insert(0, self.status_reason(cert, verdict, since));
        Outcome {
            verdict,
            confidence,
            cert: Some(cert),
            reasons,
        }
    }

    fn status_reason(
        &self,
        cert: &CertEntry,
        verdict: Verdict,
        since: Option<NaiveDate>,
    ) -> String {
        let no = &cert.cert_no;
        let when = since
            .map(|d| d.to_string())
            .unwrap_or_else(|| "（日期不详）".into());
        let why = cert
            .status_reason
            .as_deref()
            .map(|r| format!("，原因：{r}"))
            .unwrap_or_default();
        match verdict {
            Verdict::Compliant => format!(
                "证书 {no} 在 {} 有效，有效期至 {}",
                self.as_of, cert.expires_on
            ),
            Verdict::Expired => {
                format!("证书 {no} 已于 {when} 过期失效（核查日期 {}）", self.as_of)
            }
            Verdict::Suspended => {
                format!("证书 {no} 自 {when} 起暂停{why}；暂停期间销售视同未获认证")
            }
            Verdict::Revoked => format!("证书 {no} 已于 {when} 撤销{why}"),
            Verdict::Cancelled => format!("证书 {no} 已于 {when} 注销{why}"),
            other => format!("证书 {no}：{}", other.label_zh()),
        }
    }

    /// Does the certificate's holder own the listing's brand?
    fn brand_cover(&self, brand: &ListingBrand, cert: &CertEntry) -> Cover {
        let holders = if cert.applicant == cert.manufacturer {
            cert.applicant.to_string()
        } else {
            format!("{}、{}", cert.applicant, cert.manufacturer)
        };
        match brand {
            ListingBrand::None => {
                Cover::Unknown(Some("商品未标明品牌，未核对品牌与证书持有人".into()))
            }
            ListingBrand::Known { brand, written } => {
                if cert.owners.contains(&(*brand as u32)) {
                    return Cover::Yes(format!("品牌“{written}”属于证书持有人{holders}"));
                }
                let name = &self.brands.get(*brand).name;
                let mut r = format!("商品品牌“{written}”（{name}）与证书持有人{holders}不符");
                if let Some(owner) = self.owner_names(cert) {
                    r.push_str(&format!("，该证书属于品牌“{owner}”"));
                } else if let Some((company, sim)) =
                    self.brands.closest_company(*brand, &cert.applicant)
                    && sim >= 0.8
                {
                    r.push_str(&format!(
                        "（与{name}的企业“{company}”名称相近但不是同一企业）"
                    ));
                }
                Cover::No(r, 0.92)
            }
            ListingBrand::Unknown { written, lookalike } => {
                let key = name_key(written);
                let parts: Vec<String> = written
                    .split(|c: char| {
                        matches!(c, '/' | '(' | ')' | '（' | '）') || c.is_whitespace()
                    })
                    .map(name_key)
                    .filter(|p| p.chars().count() >= 2)
                    .chain(std::iter::once(key))
                    .collect();
                let holder_keys = [name_key(&cert.applicant), name_key(&cert.manufacturer)];
                if lookalike.is_none()
                    && parts
                        .iter()
                        .any(|p| holder_keys.iter().any(|h| h.contains(p.as_str())))
                {
                    return Cover::Yes(format!("品牌“{written}”见于证书持有人名称{holders}"));
                }
                match lookalike {
                    Some(b) => {
                        let real = &self.brands.get(*b).name;
                        Cover::No(
                            format!(
                                "商品品牌“{written}”与知名品牌“{real}”仅一字之差，不是同一品牌（疑似仿冒），证书持有人为{holders}"
                            ),
                            0.9,
                        )
                    }
                    None => Cover::No(
                        format!(
                            "商品品牌“{written}”与证书持有人{holders}无对应关系（品牌库中无此品牌，如核实属于该企业请补充品牌库）"
                        ),
                        0.75,
                    ),
                }
            }
        }
    }

    fn owner_names(&self, cert: &CertEntry) -> Option<String> {
        (!cert.owners.is_empty()).then(|| {
            cert.owners
                .iter()
                .map(|&b| self.brands.get(b as usize).name.as_str())
                .collect::<Vec<_>>()
                .join("、")
        })
    }

    /// Is the listing's model on the certificate's model list?
    fn model_cover(&self, facts: &Facts, cert: &CertEntry) -> Cover {
        if facts.models.is_empty() {
            return Cover::Unknown(Some("商品未标明型号，未核对型号".into()));
        }
        if let Some(m) = facts.models.iter().find(|m| cert.covers_model_key(&m.key)) {
            return Cover::Yes(format!("型号 {} 在证书型号列表中", m.written));
        }
        if !cert.models_complete {
            return Cover::Unknown(Some(format!(
                "证书型号列表不完整（{}），无法核对型号 {}",
                if cert.models.is_empty() {
                    "见附件"
                } else {
                    "列表注明“等”或见附件"
                },
                facts.models[0].written
            )));
        }
        let m = &facts.models[0];
        let closest = closest_model(m, cert.models.iter().map(|s| &**s));
        let shown = if facts.models_from_title {
            format!("标题中的型号 {}", m.written)
        } else {
            format!("商品型号 {}", m.written)
        };
        let mut r = format!("{shown} 不在证书型号列表中");
        if let Some(c) = closest {
            r.push_str(&format!("（最接近：{c}）"));
        }
        Cover::No(r, if facts.models_from_title { 0.8 } else { 0.88 })
    }

    fn judge_uncited(&self, facts: &Facts) -> Outcome<'a> {
        if facts.models.is_empty() {
            return Outcome {
                verdict: Verdict::Uncertified,
                confidence: 0.7,
                cert: None,
                reasons: vec![
                    "商品未标注CCC证书编号，也未标明型号，无法在证书库中找到覆盖它的证书".into(),
                ],
            };
        }
        let mut covering: Vec<&'a CertEntry> = Vec::new();
        let mut other_holders: Vec<&'a CertEntry> = Vec::new();
        for m in &facts.models {
            for c in self.index.by_model_key(&m.key) {
                match self.brand_cover(&facts.brand, c) {
                    Cover::No(..) => other_holders.push(c),
                    _ => covering.push(c),
                }
            }
        }
        let valid = covering
            .iter()
            .filter(|c| c.verdict_on(self.as_of).0 == Verdict::Compliant)
            .max_by_key(|c| c.expires_on);
        if let Some(c) = valid {
            let brand_note = match &facts.brand {
                ListingBrand::None => "（商品未标明品牌，仅按型号匹配）",
                _ => "",
            };
            return Outcome {
                verdict: Verdict::Compliant,
                confidence: if matches!(facts.brand, ListingBrand::None) {
                    0.8
                } else {
                    0.9
                },
                cert: Some(c),
                reasons: vec![format!(
                    "商品未标注证书编号；按品牌和型号在证书库中找到有效证书 {}（持有人{}，型号 {}），有效期至 {}{brand_note}",
                    c.cert_no, c.applicant, facts.models[0].written, c.expires_on
                )],
            };
        }
        if let Some(c) = covering.iter().max_by_key(|c| c.issued_on) {
            let (verdict, since) = c.verdict_on(self.as_of);
            return Outcome {
                verdict,
                confidence: 0.85,
                cert: Some(c),
                reasons: vec![
                    format!("商品未标注证书编号；按品牌和型号找到的证书均已失效"),
                    self.status_reason(c, verdict, since),
                ],
            };
        }
        let mut reasons = vec![format!(
            "商品未标注CCC证书编号，证书库中没有覆盖该品牌和型号（{}）的证书",
            facts
                .models
                .iter()
                .map(|m| m.written.as_str())
                .collect::<Vec<_>>()
                .join("、")
        )];
        if let Some(c) = other_holders.first() {
            reasons.push(format!(
                "型号见于证书 {}，但持有人{}与商品品牌不符",
                c.cert_no, c.applicant
            ));
        }
        if let ListingBrand::Known { brand, .. } = facts.brand
            && let Some((model, cert)) = self.closest_brand_model(brand, &facts.models[0])
        {
            reasons.push(format!(
                "该品牌证书中最接近的型号：{model}（证书 {cert}），型号不同即不覆盖"
            ));
        }
        let confidence = if facts.models_from_title { 0.8 } else { 0.88 };
        Outcome {
            verdict: Verdict::Uncertified,
            confidence,
            cert: None,
            reasons,
        }
    }

    /// The brand's certified model most similar to `model`, for the reviewer.
    fn closest_brand_model(&self, brand: usize, model: &ListingModel) -> Option<(String, String)> {
        let mut best: Option<(f64, &str, &str)> = None;
        for c in self.index.by_brand(brand).take(5000) {
            for (m, k) in c.models.iter().zip(c.model_keys.iter()) {
                let s = strsim::normalized_levenshtein(k, &model.key);
                if best.is_none_or(|b| s > b.0) {
                    best = Some((s, m, &c.cert_no));
                }
            }
        }
        best.filter(|b| b.0 >= 0.6)
            .map(|(_, m, c)| (m.to_string(), c.to_string()))
    }
}

/// The model on a list most similar to `model` (normalised Levenshtein on keys).
fn closest_model<'m>(model: &ListingModel, list: impl Iterator<Item = &'m str>) -> Option<&'m str> {
    list.map(|m| {
        (
            strsim::normalized_levenshtein(&crate::text::normalize::model_key(m), &model.key),
            m,
        )
    })
    .filter(|(s, _)| *s >= 0.5)
    .max_by(|a, b| a.0.total_cmp(&b.0))
    .map(|(_, m)| m)
}

/// What the spec table says about scope: a product-kind field, a filled-in
/// certificate field without a number, a child's age, a mains rating.
fn spec_signals<'c>(catalog: &'c Catalog, listing: &Listing) -> SpecSignals<'c> {
    let mut s = SpecSignals::default();
    for (label, value) in &listing.params {
        let key = label_key(label);
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if PRODUCT_KIND_LABELS.contains(&key.as_str()) && s.product.is_none() {
            match catalog.read_text(value) {
                TextScope::Silent => {}
                found => s.product = Some((format!("{label}：{value}"), found)),
            }
        } else if is_cert_label(label) && s.claims_certificate.is_none() {
            s.claims_certificate = Some(value.chars().take(40).collect());
        } else if is_fits_label(&key) && s.fits.is_none() {
            s.fits = Some((format!("{label}：{value}"), catalog.read_text(value)));
        } else if key.contains("适用年龄") && s.child_age.is_none() && is_child_age(value) {
            s.child_age = Some(value.chars().take(40).collect());
        } else if (key.contains("额定电压")
            || key.contains("额定功率")
            || key == "电压"
            || key == "功率")
            && s.mains.is_none()
            && value.bytes().any(|b| b.is_ascii_digit())
        {
            s.mains = Some(value.chars().take(40).collect());
        }
    }
    s
}

/// A label naming the machine the goods fit (`适用机型`, `兼容型号`,
/// `适配品牌`), after `label_key`; not the ages, rooms or people a product
/// suits (`适用年龄`, `适用面积`).
/// A short model (two or three letters and digits, `F9`, `M12`) right after
/// `brand` in `title`, or after one Chinese word that follows it (a series
/// name: `莱克 魔洁 M12`). Longer models are read from the title anywhere.
fn short_model_after(title: &str, brand: &str) -> Option<String> {
    let title = fold_scope(title);
    let at = title.find(&fold_scope(brand))? + fold_scope(brand).len();
    let mut rest = title[at..].trim_start();
    let series: usize = rest
        .chars()
        .take_while(|&c| is_cjk(c))
        .map(char::len_utf8)
        .sum();
    if series > 0 {
        if rest[..series].chars().count() > 4 {
            return None;
        }
        rest = rest[series..].trim_start();
    }
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let ends_word = rest[token.len()..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '.');
    ((2..=3).contains(&token.len())
        && ends_word
        && token.bytes().any(|b| b.is_ascii_digit())
        && token.bytes().any(|b| b.is_ascii_alphabetic()))
    .then(|| token.to_uppercase())
}

/// Words of a title that may be its brand when no brand is known: the
/// Chinese word that opens it, and the one right before a model it writes
/// (2 to 6 characters each).
fn brand_words(title: &str, models: &[ListingModel]) -> Vec<String> {
    let han_run = |s: &str, from_end: bool| -> String {
        let run: Vec<char> = if from_end {
            let mut v: Vec<char> = s.chars().rev().take_while(|&c| is_cjk(c)).collect();
            v.reverse();
            v
        } else {
            s.chars().take_while(|&c| is_cjk(c)).collect()
        };
        run.into_iter().collect()
    };
    let trimmed = title.trim_start_matches(|c: char| !is_cjk(c) && !c.is_alphanumeric());
    let mut out = vec![han_run(trimmed, false)];
    for m in models {
        if let Some(at) = title.find(m.written.as_str()) {
            let before = title[..at].trim_end();
            out.push(han_run(before, true));
        }
    }
    out.retain(|w| (2..=6).contains(&w.chars().count()));
    out.dedup();
    out
}

fn is_fits_label(key: &str) -> bool {
    const FOR: &[&str] = &["适用", "适配", "兼容", "配套", "对应", "匹配"];
    const MACHINE: &[&str] = &["机型", "型号", "品牌", "车型", "机器", "主机", "机种"];
    FOR.iter().any(|f| key.starts_with(f)) && MACHINE.iter().any(|m| key.contains(m))
}

/// Spec-table labels that say what the product is.
const PRODUCT_KIND_LABELS: &[&str] = &[
    "产品类别",
    "产品类型",
    "产品名称",
    "品类",
    "类别",
    "类型",
    "品名",
    "商品名称",
    "商品类别",
    "产品种类",
];

/// An age under 14: `3-6岁`, `36个月以上`, `3岁+`.
/// A child's age the title states (`1岁`, `3-6岁`, `18个月`), under 14:
/// children's goods, which the catalog's toys and children's vehicles are.
fn child_age_in(title: &str) -> Option<String> {
    static AGE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d{1,3}(?:\s*[-~～至到]\s*\d{1,3})?\s*(?:周岁|岁|个月|月龄)")
            .expect("age pattern")
    });
    let folded = fold_width(title);
    AGE.find_iter(&folded)
        .map(|m| m.as_str().to_string())
        .find(|a| is_child_age(a))
}

fn is_child_age(value: &str) -> bool {
    let folded = fold_width(value);
    let mut num = String::new();
    let mut nums: Vec<u32> = Vec::new();
    for c in folded.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            num.push(c);
        } else if !num.is_empty() {
            nums.extend(num.parse::<u32>().ok());
            num.clear();
        }
    }
    let months = folded.contains("个月") || folded.contains("月龄");
    let years = folded.contains('岁');
    (years || months)
        && nums.first().is_some_and(|&n| {
            if months && !years {
                n < 14 * 12
            } else {
                n < 14
            }
        })
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for i in items {
        if !into.contains(&i) {
            into.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certdb::CatalogEntry;
    use crate::certdb::catalog::{AccessoryWords, HintWords, OutsideKind};
    use crate::domain::CertStatus;
    use crate::matching::Brand;
    use crate::matching::index::CertRecord;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cert(no: &str, status: CertStatus, changed: Option<&str>, models: &[&str]) -> CertRecord {
        CertRecord {
            cert_no: no.into(),
            status,
            status_changed_on: changed.map(date),
            status_reason: None,
            issued_on: date("2021-01-01"),
            expires_on: date("2030-01-01"),
            category_code: Some("0201".into()),
            product_name: "转换器".into(),
            applicant: "公牛集团股份有限公司".into(),
            manufacturer: "公牛集团股份有限公司".into(),
            models: models.iter().map(|m| m.to_string()).collect(),
            models_complete: true,
        }
    }

    struct World {
        index: CertIndex,
        brands: BrandTable,
        catalog: Catalog,
    }

    fn world() -> World {
        let brands = BrandTable::new(vec![Brand {
            name: "公牛".into(),
            aliases: vec!["BULL".into()],
            companies: vec!["公牛集团股份有限公司".into()],
            title_search: true,
        }]);
        let index = CertIndex::build(
            vec![
                cert("2016010201931890", CertStatus::Valid, None, &["GN-H3050"]),
                cert(
                    "2016010201931891",
                    CertStatus::Revoked,
                    Some("2026-08-01"),
                    &["GN-H3060"],
                ),
            ],
            &brands,
        );
        let catalog = Catalog::from_parts(
            vec![CatalogEntry {
                code: "0201".into(),
                name: "插头插座".into(),
                group: "插头插座开关".into(),
                keywords: vec!["插座".into()],
                exclusions: vec!["插座保护盖".into()],
                ..CatalogEntry::default()
            }],
            vec![OutsideKind {
                kind: "服装鞋帽".into(),
                words: vec!["T恤".into()],
            }],
            AccessoryWords::default(),
            HintWords::default(),
        );
        World {
            index,
            brands,
            catalog,
        }
    }

    fn judge(w: &World, as_of: &str, title: &str, params: &[(&str, &str)]) -> Finding {
        let listing = Listing {
            title: title.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Listing::default()
        };
        Matcher::new(&w.index, &w.brands, &w.catalog, date(as_of)).judge(&listing)
    }

    #[test]
    fn a_model_certified_to_a_holder_named_like_the_titles_brand_gives_scope() {
        let mut w = world();
        let mut washer = cert(
            "2020010705123456",
            CertStatus::Valid,
            None,
            &["XPB100-1088S"],
        );
        washer.category_code = Some("0705".into());
        washer.applicant = "广州威力电器有限公司".into();
        washer.manufacturer = washer.applicant.clone();
        w.index = CertIndex::build(vec![washer], &w.brands);
        w.catalog = Catalog::from_parts(
            vec![CatalogEntry {
                code: "0705".into(),
                name: "家用电动洗衣机".into(),
                group: "家用电器".into(),
                ..CatalogEntry::default()
            }],
            Vec::new(),
            AccessoryWords::default(),
            HintWords::default(),
        );
        let m = Matcher::new(&w.index, &w.brands, &w.catalog, date("2026-06-30"));
        let scope = |title: &str, brand: Option<&str>| {
            m.scope(&Listing {
                title: title.into(),
                brand: brand.map(str::to_string),
                ..Listing::default()
            })
        };
        // The word before the model, the word that opens the title, the
        // brand field: each found in the holder's name.
        for (title, brand) in [
            ("【热卖】 威力XPB100-1088S双桶半自动10公斤", None),
            ("威力 双桶 XPB100-1088S 半自动", None),
            ("双桶 半自动 XPB100-1088S", Some("威力")),
        ] {
            match scope(title, brand) {
                ScopeCall::In {
                    entry: Some(e),
                    reason,
                    certain: true,
                } => {
                    assert_eq!(e.code, "0705", "{title}");
                    assert!(reason.contains("“威力”"), "{reason}");
                }
                other => panic!("{title}: {other:?}"),
            }
        }
        // The same model under a name the holder's does not contain, or
        // with no name at all, says nothing.
        for (title, brand) in [
            ("海王 XPB100-1088S 双桶", None),
            ("XPB100-1088S 双桶", None),
            ("双桶 XPB100-1088S", Some("海王")),
        ] {
            assert!(
                matches!(scope(title, brand), ScopeCall::Out { .. }),
                "{title}"
            );
        }
    }

    #[test]
    fn makers_with_models_and_childrens_ages_send_bare_titles_to_review() {
        let w = world();
        let catalog = Catalog::embedded();
        let m = Matcher::new(&w.index, &w.brands, &catalog, date("2026-06-30"));
        for (title, words) in [
            ("飞雕 F9 五孔 钢架 暗装", &["“飞雕”", "“F9”"][..]),
            ("惠而浦 WM-TD252W 平板 家用", &["“惠而浦”", "“WM-TD252W”"]),
            ("拉绳 拖拉 小鸭车 宝宝 学走路 伴侣 1岁", &["“1岁”"]),
        ] {
            match m.scope(&Listing {
                title: title.into(),
                ..Listing::default()
            }) {
                ScopeCall::In {
                    certain: false,
                    reason,
                    ..
                } => assert!(words.iter().all(|w| reason.contains(w)), "{reason}"),
                other => panic!("{title}: {other:?}"),
            }
        }
        // Without the maker's model, or with an accessory word, nothing says so.
        for title in ["飞雕 五孔 钢架 暗装", "惠而浦 WM-TD252W 滤网 家用"] {
            let call = m.scope(&Listing {
                title: title.into(),
                ..Listing::default()
            });
            assert!(matches!(call, ScopeCall::Out { .. }), "{title}: {call:?}");
        }
    }

    #[test]
    fn short_models_are_read_right_after_the_brand_or_its_series() {
        for (title, brand, model) in [
            ("飞雕 F9 五孔 钢架 暗装", "飞雕", Some("F9")),
            ("莱克 魔洁 m12 MAX 无线", "莱克", Some("M12")),
            ("突破M8 六位 独立开关", "突破", Some("M8")),
            // Four characters and more are read anywhere, not here.
            ("飞雕 F9X2 五孔", "飞雕", None),
            // Not right after: a series name of five characters, two words.
            ("飞雕 超薄大面板款 F9", "飞雕", None),
            ("飞雕 五孔 暗装 F9", "飞雕", None),
            // Not a model: letters or digits alone, a rating, a longer token.
            ("飞雕 A 五孔", "飞雕", None),
            ("飞雕 86 五孔", "飞雕", None),
            ("飞雕 F9-2 五孔", "飞雕", None),
            ("公牛 F9 五孔", "飞雕", None),
        ] {
            assert_eq!(short_model_after(title, brand).as_deref(), model, "{title}");
        }
    }

    #[test]
    fn a_childs_age_in_the_title_is_read_up_to_fourteen() {
        for (title, age) in [
            ("拉绳 拖拉 小鸭车 宝宝 学走路 伴侣 1岁", Some("1岁")),
            ("磁性 涂鸦 彩色 大号 1-3岁", Some("1-3岁")),
            ("摇摇 音乐 ６～３６个月", Some("6~36个月")),
            ("老人 手杖 60岁 以上", None),
            ("14岁以上 模型 拼装", None),
            ("婴儿 润肤 100ml", None),
        ] {
            assert_eq!(child_age_in(title).as_deref(), age, "{title}");
        }
    }

    #[test]
    fn fits_labels_name_a_machine_not_an_age_or_a_room() {
        for l in [
            "适用机型",
            "适用型号",
            "兼容型号",
            "适配品牌",
            "适用车型",
            "适用品牌机型",
        ] {
            assert!(is_fits_label(&label_key(l)), "{l}");
        }
        for l in [
            "适用年龄",
            "适用面积",
            "适用人群",
            "型号",
            "适用场景",
            "品牌",
        ] {
            assert!(!is_fits_label(&label_key(l)), "{l}");
        }
    }

    #[test]
    fn cited_covering_certificate_is_judged_by_status_on_the_date() {
        let w = world();
        let p = [
            ("品牌", "BULL/公牛"),
            ("型号", "GN-H3060"),
            ("3C证书编号", "2016010201931891"),
        ];
        assert_eq!(
            judge(&w, "2026-07-01", "公牛插座", &p).verdict,
            Verdict::Compliant,
            "revoked later"
        );
        let f = judge(&w, "2026-11-28", "公牛插座", &p);
        assert_eq!(f.verdict, Verdict::Revoked);
        assert_eq!(f.matched_cert.as_deref(), Some("2016010201931891"));
        assert!(
            f.reasons.iter().any(|r| r.contains("已于 2026-08-01 撤销")),
            "{:?}",
            f.reasons
        );
    }

    #[test]
    fn best_of_several_numbers_wins() {
        let w = world();
        let p = [
            ("型号", "GN-H3050"),
            ("证书编号", "2016010201931891；2016010201931890"),
        ];
        let f = judge(&w, "2026-11-28", "公牛插座", &p);
        assert_eq!(f.verdict, Verdict::Compliant);
        assert_eq!(f.cert_numbers.len(), 2);
        assert!(
            f.reasons
                .iter()
                .any(|r| r.contains("另引用证书编号 2016010201931891"))
        );
    }

    #[test]
    fn look_alike_brand_and_other_model_do_not_cover() {
        let w = world();
        let f = judge(
            &w,
            "2026-11-28",
            "公午插座",
            &[("品牌", "公午"), ("3C证书编号", "2016010201931890")],
        );
        assert_eq!(f.verdict, Verdict::CertMismatch);
        assert!(
            f.reasons.iter().any(|r| r.contains("仿冒")),
            "{:?}",
            f.reasons
        );
        let f = judge(
            &w,
            "2026-11-28",
            "公牛插座 GN-H3090",
            &[("3C证书编号", "2016010201931890")],
        );
        assert_eq!(f.verdict, Verdict::CertMismatch);
        assert!(
            f.reasons.iter().any(|r| r.contains("最接近：GN-H3050")),
            "{:?}",
            f.reasons
        );
    }

    #[test]
    fn unknown_numbers_are_not_fuzzy_matched() {
        let w = world();
        let f = judge(
            &w,
            "2026-11-28",
            "公牛插座 GN-H3050",
            &[("3C证书编号", "2016010201931899")],
        );
        assert_eq!(f.verdict, Verdict::CertNotFound);
        assert_eq!(f.matched_cert, None);
        assert!(
            f.reasons.iter().any(|r| r.contains("仅一位数字不同")),
            "{:?}",
            f.reasons
        );
    }

    #[test]
    fn uncited_listings_are_looked_up_by_brand_and_model() {
        let w = world();
        assert_eq!(
            judge(&w, "2026-11-28", "公牛插座 GN-H3050", &[]).verdict,
            Verdict::Compliant
        );
        assert_eq!(
            judge(&w, "2026-11-28", "公牛插座 GN-H3060", &[]).verdict,
            Verdict::Revoked
        );
        assert_eq!(
            judge(&w, "2026-11-28", "公牛插座 GN-H3070", &[]).verdict,
            Verdict::Uncertified
        );
        assert_eq!(
            judge(&w, "2026-11-28", "公牛插座", &[]).verdict,
            Verdict::Uncertified
        );
        let f = judge(&w, "2026-11-28", "杂牌插座 GN-H3050", &[("品牌", "杂牌")]);
        assert_eq!(
            f.verdict,
            Verdict::Uncertified,
            "the model belongs to another company"
        );
    }

    #[test]
    fn scope_comes_from_the_catalog_or_the_cited_certificate() {
        let w = world();
        assert_eq!(
            judge(&w, "2026-11-28", "儿童插座保护盖", &[]).verdict,
            Verdict::NotInScope
        );
        assert_eq!(
            judge(&w, "2026-11-28", "纯棉T恤", &[]).verdict,
            Verdict::NotInScope
        );
        let f = judge(
            &w,
            "2026-11-28",
            "公牛 GN-H3050 五孔",
            &[("3C证书编号", "2016010201931890")],
        );
        assert_eq!(f.verdict, Verdict::Compliant);
        assert_eq!(f.category_code.as_deref(), Some("0201"));
        assert!(
            f.reasons
                .iter()
                .any(|r| r.contains("所引证书的产品类别为插头插座（0201）")),
            "{:?}",
            f.reasons
        );
    }
}
