//! The core of a listing, generated from (seed, index) alone: its intended
//! case ([`Kind`]), the certificate it is built from, brand, model, cited
//! number and title. Cheap enough (about a microsecond) to scan a million
//! listings when a new search keyword is first asked for.

use super::data::{Data, Status};
use super::products::{self, TYPES};
use super::rng::{stream, weighted};
use super::text::{self, CertPlace};
use super::vocab::{self, ACCESSORIES, MARKETING, NO_NAME_BRANDS};
use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;

/// The intended case of a listing (see `ItemTruth::kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Valid,
    ValidNoNumber,
    NoCert,
    Expired,
    Suspended,
    Revoked,
    Cancelled,
    WrongCompany,
    ModelOffByOne,
    Lookalike,
    CertNotFound,
    OutOfScope,
}

/// Kinds with their share in per mille.
const KINDS: &[(Kind, u32)] = &[
    (Kind::Valid, 480),
    (Kind::ValidNoNumber, 70),
    (Kind::NoCert, 80),
    (Kind::Expired, 50),
    (Kind::Suspended, 30),
    (Kind::Revoked, 20),
    (Kind::Cancelled, 30),
    (Kind::WrongCompany, 50),
    (Kind::ModelOffByOne, 50),
    (Kind::Lookalike, 40),
    (Kind::CertNotFound, 30),
    (Kind::OutOfScope, 70),
];

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Valid => "valid",
            Kind::ValidNoNumber => "valid_no_number",
            Kind::NoCert => "no_cert",
            Kind::Expired => "expired_cert",
            Kind::Suspended => "suspended_cert",
            Kind::Revoked => "revoked_cert",
            Kind::Cancelled => "cancelled_cert",
            Kind::WrongCompany => "wrong_company",
            Kind::ModelOffByOne => "model_off_by_one",
            Kind::Lookalike => "lookalike_brand",
            Kind::CertNotFound => "cert_not_found",
            Kind::OutOfScope => "out_of_scope",
        }
    }

    /// The certificate status this kind cites.
    fn status(self) -> Status {
        match self {
            Kind::Expired => Status::Expired,
            Kind::Suspended => Status::Suspended,
            Kind::Revoked => Status::Revoked,
            Kind::Cancelled => Status::Cancelled,
            _ => Status::Valid,
        }
    }
}

/// What the listing is, before shop, price and page details.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub kind: Kind,
    pub group: usize,
    /// Product type, `None` for accessories.
    pub ptype: Option<usize>,
    pub brand: String,
    pub brand_canonical: String,
    pub model: String,
    /// The cited number, 16 digits.
    pub cert_no: Option<String>,
    /// The cited number as written on the page.
    pub cert_shown: Option<String>,
    pub cert_place: CertPlace,
    pub title: String,
    pub category: &'static str,
    /// Power rating of the certified product (0 when unknown).
    pub watts: u32,
}

/// The core of listing `index` of the market seeded with `seed`.
pub(crate) fn core(seed: u64, index: u64) -> Core {
    let mut rng = stream(seed, index, 1);
    let groups = [
        (0, products::GROUP_SHARES[0]),
        (1, products::GROUP_SHARES[1]),
        (2, products::GROUP_SHARES[2]),
    ];
    let group = weighted(&mut rng, &groups);
    let kind = weighted(&mut rng, KINDS);
    match kind {
        Kind::OutOfScope => accessory(&mut rng, group),
        Kind::NoCert => no_name(&mut rng, group),
        _ => certified(&mut rng, group, kind),
    }
}

/// A certificate of `status` in `group`, or in any group when it has none.
fn pick_cert(rng: &mut SmallRng, group: usize, status: Status) -> usize {
    let d = Data::get();
    match d.group_pool(group, status).choose(rng) {
        Some(&c) => c,
        None => *d
            .status_pool(status)
            .choose(rng)
            .expect("the sample has certificates of every status"),
    }
}

fn certified(rng: &mut SmallRng, group: usize, kind: Kind) -> Core {
    let d = Data::get();
    let ci = pick_cert(rng, group, kind.status());
    let cert = &d.certs[ci];
    let mut ptype = cert.ptype;
    let mut watts = cert.watts;
    let mut owner = *cert.owners.choose(rng).expect("owner");
    let mut model = cert.models.choose(rng).expect("models").clone();
    let mut number = Some(cert.no.clone());
    let mut kind = kind;
    match kind {
        Kind::WrongCompany => match other_company(rng, ci) {
            Some((other, b, m)) => {
                (owner, model) = (b, m);
                (ptype, watts) = (d.certs[other].ptype, d.certs[other].watts);
            }
            None => kind = Kind::Valid,
        },
        Kind::ModelOffByOne => model = text::off_by_one(rng, &model, &d.models),
        Kind::CertNotFound => number = Some(text::unknown_number(rng, &cert.no, &d.numbers)),
        Kind::ValidNoNumber => number = None,
        _ => {}
    }
    let b = &d.brands[owner];
    let (brand, title_brand) = if kind == Kind::Lookalike {
        let l = vocab::lookalike(&b.name);
        (l.clone(), l)
    } else {
        text::brand_forms(rng, &b.name, b.latin.as_deref())
    };
    let t = &TYPES[ptype];
    let model_shown = text::model_shown(rng, &model);
    let place = match number {
        Some(_) => text::cert_place(rng),
        None => CertPlace::None,
    };
    let shown = number.as_deref().map(|n| text::cert_written(rng, n, place));
    let title = title(rng, &title_brand, t, &model_shown, shown.as_deref(), place);
    Core {
        kind,
        group: t.group,
        ptype: Some(ptype),
        brand,
        brand_canonical: b.name.clone(),
        model: model_shown,
        cert_no: number,
        cert_shown: shown,
        cert_place: place,
        title,
        category: t.category,
        watts,
    }
}

/// A certificate of another company (same product type if there is one,
/// else the same group), one of its brands and one of its models.
fn other_company(rng: &mut SmallRng, ci: usize) -> Option<(usize, usize, String)> {
    let d = Data::get();
    let cert = &d.certs[ci];
    let same_type = d.type_pool(cert.ptype, Status::Valid);
    for attempt in 0..24 {
        let oi = match same_type.choose(rng) {
            Some(&o) if attempt < 12 => o,
            _ => pick_cert(rng, TYPES[cert.ptype].group, Status::Valid),
        };
        let other = &d.certs[oi];
        let brand = *other.owners.choose(rng)?;
        if !cert.owners.contains(&brand) && !other.models.iter().any(|m| cert.models.contains(m)) {
            return Some((oi, brand, other.models.choose(rng)?.clone()));
        }
    }
    None
}

fn no_name(rng: &mut SmallRng, group: usize) -> Core {
    let types: Vec<usize> = products::types_of(products::GROUPS[group]).collect();
    let ptype = *types.choose(rng).expect("types");
    let t = &TYPES[ptype];
    let brand = (*NO_NAME_BRANDS.choose(rng).expect("brands")).to_string();
    let model = text::invented_model(rng);
    let mut title = title(rng, &brand, t, &model, None, CertPlace::None);
    if rng.random_bool(0.2) {
        // "Same style as <brand>": a real brand that is not the brand.
        title = format!("{title} {}同款", real_brand(rng, group));
    }
    Core {
        kind: Kind::NoCert,
        group,
        ptype: Some(ptype),
        brand: brand.clone(),
        brand_canonical: brand,
        model,
        cert_no: None,
        cert_shown: None,
        cert_place: CertPlace::None,
        title,
        category: t.category,
        watts: 0,
    }
}

fn accessory(rng: &mut SmallRng, group: usize) -> Core {
    let options: Vec<_> = ACCESSORIES.iter().filter(|a| a.0 == group).collect();
    let (_, base, category, _) = **options.choose(rng).expect("accessories");
    let brand = (*NO_NAME_BRANDS.choose(rng).expect("brands")).to_string();
    let model = if rng.random_bool(0.5) {
        text::invented_model(rng)
    } else {
        String::new()
    };
    let mut title = format!("{brand}{base}");
    if rng.random_bool(0.5) {
        title.push_str(MARKETING.choose(rng).expect("marketing"));
    }
    if rng.random_bool(0.3) {
        // "Fits <brand>": compatible with, not made by.
        title = format!("{title} 适用{}", real_brand(rng, group));
    }
    if !model.is_empty() {
        title = format!("{title} {model}");
    }
    Core {
        kind: Kind::OutOfScope,
        group,
        ptype: None,
        brand: brand.clone(),
        brand_canonical: brand,
        model,
        cert_no: None,
        cert_shown: None,
        cert_place: CertPlace::None,
        title,
        category,
        watts: 0,
    }
}

/// The name of a brand holding a certificate in `group`.
fn real_brand(rng: &mut SmallRng, group: usize) -> &'static str {
    let d = Data::get();
    let cert = &d.certs[pick_cert(rng, group, Status::Valid)];
    &d.brands[cert.owners[0]].name
}

/// A marketplace title: brand, product nouns, feature words, marketing
/// words, then usually the model; the certificate number when cited there.
fn title(
    rng: &mut SmallRng,
    brand: &str,
    t: &products::ProductType,
    model: &str,
    cert: Option<&str>,
    place: CertPlace,
) -> String {
    let mut parts: Vec<&str> = vec![brand];
    let (n_extras, n_nouns) = (rng.random_range(2..=4), rng.random_range(1..=2));
    let extras: Vec<&str> = t.extras.choose_multiple(rng, n_extras).copied().collect();
    let nouns: Vec<&str> = t.nouns.choose_multiple(rng, n_nouns).copied().collect();
    parts.push(extras[0]);
    parts.push(nouns[0]);
    parts.extend(&extras[1..]);
    parts.extend(&nouns[1..]);
    if rng.random_bool(0.3) {
        parts.push(MARKETING.choose(rng).expect("marketing"));
    }
    let mut out = String::with_capacity(96);
    for (i, p) in parts.iter().enumerate() {
        if i > 1 && rng.random_bool(0.25) {
            out.push(' ');
        }
        out.push_str(p);
    }
    if !model.is_empty() && rng.random_bool(0.75) {
        out.push(' ');
        out.push_str(model);
    }
    match (place, cert) {
        (CertPlace::Title, Some(c)) if rng.random_bool(0.5) => format!("CCC证书编号：{c} {out}"),
        (CertPlace::Title, Some(c)) => format!("{out} 3C:{c}"),
        _ => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_are_deterministic_and_varied() {
        let a = core(7, 123);
        let b = core(7, 123);
        assert_eq!(a.title, b.title);
        let mut kinds = std::collections::HashSet::new();
        for i in 0..2000 {
            let c = core(7, i);
            assert!(!c.title.is_empty());
            kinds.insert(c.kind);
        }
        assert_eq!(kinds.len(), KINDS.len());
    }

    #[test]
    fn kinds_are_what_they_say() {
        let d = Data::get();
        let cert = |no: &str| d.certs.iter().find(|c| c.no == no);
        for i in 0..3000 {
            let c = core(3, i);
            match c.kind {
                Kind::Valid => {
                    let crt = cert(c.cert_no.as_deref().unwrap()).unwrap();
                    assert_eq!(crt.status, Status::Valid);
                    let base = c.model.split([' ', '-']).next().unwrap().to_uppercase();
                    assert!(
                        crt.models
                            .iter()
                            .any(|m| m.to_uppercase().starts_with(&base))
                    );
                }
                Kind::CertNotFound => assert!(cert(c.cert_no.as_deref().unwrap()).is_none()),
                Kind::NoCert | Kind::OutOfScope | Kind::ValidNoNumber => {
                    assert!(c.cert_no.is_none())
                }
                Kind::Expired => {
                    let crt = cert(c.cert_no.as_deref().unwrap()).unwrap();
                    assert_eq!(crt.status, Status::Expired);
                }
                _ => {}
            }
        }
    }
}
