//! The embedded reference data the demo listings are built from: the sample
//! certificate export (`certdb/sample/certificates.csv`) and the brand table
//! (`certdb/brands.csv`), parsed once per process.
//!
//! Certificates are classified by their status on [`REFERENCE_DATE`] and
//! grouped into pools per product type (see [`super::products`]), so that a
//! generated listing can cite a certificate of the right kind in O(1).

use super::models::{max_watts, parse_models};
use super::products;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const CERTIFICATES_CSV: &str = include_str!("../../certdb/sample/certificates.csv");
const BRANDS_CSV: &str = include_str!("../../certdb/brands.csv");

/// The date the intended `kind` of each listing holds on (year, month, day).
pub(crate) const REFERENCE_DATE: (u16, u8, u8) = (2026, 11, 28);
/// A certificate cited by a "valid" listing is still valid on this date, so
/// the demo stays right for a year after [`REFERENCE_DATE`].
const VALID_THROUGH: (u16, u8, u8) = (2027, 12, 31);

/// Status of a certificate on [`REFERENCE_DATE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Status {
    Valid,
    /// Valid but expiring within a year of the reference date: not cited.
    ExpiringSoon,
    Expired,
    Suspended,
    Revoked,
    Cancelled,
}

#[derive(Debug)]
pub(crate) struct Cert {
    pub no: String,
    pub status: Status,
    /// Parsed model list (empty for `见附件`).
    pub models: Vec<String>,
    /// Indices into [`Data::brands`] of the brands whose companies include
    /// the applicant or the manufacturer (never empty).
    pub owners: Vec<usize>,
    /// Index into [`products::TYPES`].
    pub ptype: usize,
    /// The largest power rating in the model cell (0 when none).
    pub watts: u32,
}

#[derive(Debug)]
pub(crate) struct Brand {
    pub name: String,
    /// First all-ASCII alias (`BULL`, `Midea`), if any.
    pub latin: Option<String>,
}

/// Everything the generator needs, built once.
pub(crate) struct Data {
    pub certs: Vec<Cert>,
    pub brands: Vec<Brand>,
    /// (product type, status) → certificates with a non-empty model list.
    type_pools: HashMap<(usize, Status), Vec<usize>>,
    /// (product group, status) → the same for all types of the group.
    group_pools: HashMap<(usize, Status), Vec<usize>>,
    /// status → the same, for all groups.
    status_pools: HashMap<Status, Vec<usize>>,
    /// Every certificate number in the sample (to keep invented ones out).
    pub numbers: HashSet<String>,
    /// Every listed model, upper case (to keep near-misses off every list).
    pub models: HashSet<String>,
}

impl Data {
    pub fn get() -> &'static Data {
        static DATA: OnceLock<Data> = OnceLock::new();
        DATA.get_or_init(Data::load)
    }

    fn load() -> Data {
        let brands = parse_brands(BRANDS_CSV);
        let companies_of = brand_rows(BRANDS_CSV);
        let mut company_brands: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, comps) in companies_of.iter().enumerate() {
            for c in comps {
                company_brands.entry(c.as_str()).or_default().push(i);
            }
        }
        let certs = parse_certs(CERTIFICATES_CSV, &company_brands);
        let (mut type_pools, mut group_pools, mut status_pools) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for (i, c) in certs.iter().enumerate() {
            if !c.models.is_empty() {
                let group = products::TYPES[c.ptype].group;
                type_pools
                    .entry((c.ptype, c.status))
                    .or_insert_with(Vec::new)
                    .push(i);
                group_pools
                    .entry((group, c.status))
                    .or_insert_with(Vec::new)
                    .push(i);
                status_pools
                    .entry(c.status)
                    .or_insert_with(Vec::new)
                    .push(i);
            }
        }
        let numbers = certs.iter().map(|c| c.no.clone()).collect();
        let models = certs
            .iter()
            .flat_map(|c| c.models.iter().map(|m| m.to_uppercase()))
            .collect();
        Data {
            certs,
            brands,
            type_pools,
            group_pools,
            status_pools,
            numbers,
            models,
        }
    }

    /// Certificates of product type `ptype` with `status` and known models.
    pub fn type_pool(&self, ptype: usize, status: Status) -> &[usize] {
        self.type_pools
            .get(&(ptype, status))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Certificates of any type of `group` with `status` and known models.
    pub fn group_pool(&self, group: usize, status: Status) -> &[usize] {
        self.group_pools
            .get(&(group, status))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Certificates of any group with `status` and known models.
    pub fn status_pool(&self, status: Status) -> &[usize] {
        self.status_pools
            .get(&status)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

fn brand_rows(text: &str) -> Vec<Vec<String>> {
    records(text)
        .iter()
        .map(|r| split_list(r.get(2).unwrap_or("")))
        .collect()
}

fn parse_brands(text: &str) -> Vec<Brand> {
    records(text)
        .iter()
        .map(|r| {
            let aliases = split_list(r.get(1).unwrap_or(""));
            let latin = aliases
                .iter()
                .find(|a| a.is_ascii() && a.chars().any(|c| c.is_ascii_alphabetic()))
                .cloned();
            Brand {
                name: r.get(0).unwrap_or("").to_string(),
                latin,
            }
        })
        .collect()
}

fn split_list(s: &str) -> Vec<String> {
    s.split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn records(text: &str) -> Vec<csv::StringRecord> {
    let text = text.trim_start_matches('\u{feff}');
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .filter_map(Result::ok)
        .collect()
}

fn parse_certs(text: &str, company_brands: &HashMap<&str, Vec<usize>>) -> Vec<Cert> {
    let mut out = Vec::new();
    for r in records(text) {
        let field = |i: usize| r.get(i).unwrap_or("").trim();
        let (no, status, code, name, spec) = (field(0), field(1), field(2), field(3), field(4));
        let mut owners: Vec<usize> = Vec::new();
        for company in [field(5), field(6)] {
            for &b in company_brands.get(company).into_iter().flatten() {
                if !owners.contains(&b) {
                    owners.push(b);
                }
            }
        }
        let Some(ptype) = products::type_for(code, name, spec) else {
            continue;
        };
        if owners.is_empty() {
            continue;
        }
        out.push(Cert {
            no: no.to_string(),
            status: classify(status, parse_date(field(9))),
            models: parse_models(spec),
            owners,
            ptype,
            watts: max_watts(spec),
        });
    }
    out
}

/// Status on [`REFERENCE_DATE`] from the status column (word or code) and
/// the expiry date.
fn classify(status: &str, expiry: Option<(u16, u8, u8)>) -> Status {
    let s = status.trim();
    let base = if s.starts_with("暂停") || s == "02" {
        Status::Suspended
    } else if s.starts_with("撤销") || s == "03" {
        Status::Revoked
    } else if s.starts_with("注销") || s == "04" {
        Status::Cancelled
    } else if s.starts_with("过期") || s == "05" {
        Status::Expired
    } else {
        Status::Valid
    };
    match (base, expiry) {
        (Status::Valid, Some(d)) if d < REFERENCE_DATE => Status::Expired,
        (Status::Valid, Some(d)) if d <= VALID_THROUGH => Status::ExpiringSoon,
        (Status::Valid, None) => Status::ExpiringSoon,
        (s, _) => s,
    }
}

/// `2026-10-19`, `2027/4/30`, `2026年10月19日`.
fn parse_date(s: &str) -> Option<(u16, u8, u8)> {
    let nums: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    match nums.as_slice() {
        [y, m, d, ..] => Some((
            u16::try_from(*y).ok()?,
            u8::try_from(*m).ok()?,
            u8::try_from(*d).ok()?,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_certificates_of_every_needed_status() {
        let d = Data::get();
        assert!(d.certs.len() > 150, "{}", d.certs.len());
        for group in 0..products::GROUPS.len() {
            for st in [
                Status::Valid,
                Status::Expired,
                Status::Suspended,
                Status::Revoked,
                Status::Cancelled,
            ] {
                assert!(!d.group_pool(group, st).is_empty(), "{group} {st:?}");
            }
        }
    }

    #[test]
    fn statuses_follow_the_reference_date() {
        assert_eq!(classify("有效", Some((2025, 1, 1))), Status::Expired);
        assert_eq!(classify("01", Some((2030, 1, 1))), Status::Valid);
        assert_eq!(classify("有效", Some((2027, 6, 1))), Status::ExpiringSoon);
        assert_eq!(classify("暂停（获证企业申请）", None), Status::Suspended);
        assert_eq!(classify("03", Some((2030, 1, 1))), Status::Revoked);
        assert_eq!(parse_date("2026年10月19日"), Some((2026, 10, 19)));
        assert_eq!(parse_date("2027/4/30"), Some((2027, 4, 30)));
    }
}
