//! Review stage: the listing and its certificate side by side. Each row says
//! whether the two agree, and the model row shows the certificate's closest
//! model with the differing characters marked, so a reviewer sees at once
//! that `KFR-35GW` was listed against a certificate for `KFR-36GW`.

use crate::domain::{CertStatus, Certificate};
use crate::matching::brand::{BrandTable, ListingBrand};
use crate::text::normalize::{model_key, name_key};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Same,
    Differs,
    Unknown,
}

impl Mark {
    pub fn class(self) -> &'static str {
        match self {
            Mark::Same => "same",
            Mark::Differs => "differs",
            Mark::Unknown => "unknown",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Mark::Same => "一致",
            Mark::Differs => "不一致",
            Mark::Unknown => "无法判断",
        }
    }
}

/// A run of characters, marked when it differs from the other side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub differs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub label: &'static str,
    pub listing: Vec<Segment>,
    pub cert: Vec<Segment>,
    pub mark: Mark,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub rows: Vec<Row>,
}

fn plain(text: impl Into<String>) -> Vec<Segment> {
    let text = text.into();
    if text.is_empty() {
        return Vec::new();
    }
    vec![Segment {
        text,
        differs: false,
    }]
}

/// Compares a listing's brand and model (as the matcher read them) with a
/// certificate, on `as_of`.
pub fn compare(
    brand: Option<&str>,
    model: Option<&str>,
    cert: &Certificate,
    brands: &BrandTable,
    as_of: NaiveDate,
) -> Comparison {
    Comparison {
        rows: vec![
            brand_row(brand, cert, brands),
            model_row(model, cert),
            status_row(cert),
            validity_row(cert, as_of),
        ],
    }
}

fn brand_row(brand: Option<&str>, cert: &Certificate, brands: &BrandTable) -> Row {
    let companies = format!("申请人：{}\n制造商：{}", cert.applicant, cert.manufacturer);
    let mut cert_side = plain(companies);
    if let Some(tm) = cert.trademark.as_deref().filter(|t| !t.is_empty()) {
        cert_side.push(Segment {
            text: format!("\n商标：{tm}"),
            differs: false,
        });
    }
    let Some(written) = brand.filter(|b| !b.trim().is_empty()) else {
        return Row {
            label: "品牌 / 企业",
            listing: Vec::new(),
            cert: cert_side,
            mark: Mark::Unknown,
            note: Some("商品未标明品牌".into()),
        };
    };
    let trademark_same = cert
        .trademark
        .as_deref()
        .is_some_and(|t| name_key(t) == name_key(written));
    let (mark, note) = match brands.identify_field(written) {
        ListingBrand::Known { brand: b, .. } => {
            let owners_a = brands.owners_of(&cert.applicant);
            let owners_m = brands.owners_of(&cert.manufacturer);
            if trademark_same || owners_a.contains(&b) || owners_m.contains(&b) {
                (Mark::Same, None)
            } else {
                let listed = brands.get(b).companies.join("、");
                (
                    Mark::Differs,
                    Some(format!(
                        "品牌“{}”在品牌库中登记的企业为：{}；与证书申请人、制造商均不符",
                        brands.get(b).name,
                        if listed.is_empty() {
                            "（未登记）".to_string()
                        } else {
                            listed
                        }
                    )),
                )
            }
        }
        ListingBrand::Unknown { lookalike, .. } if trademark_same => {
            let _ = lookalike;
            (Mark::Same, None)
        }
        ListingBrand::Unknown {
            lookalike: Some(l), ..
        } => (
            Mark::Differs,
            Some(format!(
                "品牌与知名品牌“{}”仅差一字，疑似仿冒",
                brands.get(l).name
            )),
        ),
        ListingBrand::Unknown { .. } => (
            Mark::Unknown,
            Some("品牌库中没有该品牌，请人工核对证书企业".into()),
        ),
        ListingBrand::None => (Mark::Unknown, Some("商品标为无品牌或通用".into())),
    };
    Row {
        label: "品牌 / 企业",
        listing: plain(written),
        cert: cert_side,
        mark,
        note,
    }
}

fn model_row(model: Option<&str>, cert: &Certificate) -> Row {
    let all = cert.models.models.join("、");
    let incomplete = !cert.models.complete;
    let Some(model) = model.filter(|m| !m.trim().is_empty()) else {
        return Row {
            label: "型号",
            listing: Vec::new(),
            cert: plain(all),
            mark: Mark::Unknown,
            note: Some("商品未标明型号".into()),
        };
    };
    let key = model_key(model);
    if let Some(same) = cert.models.models.iter().find(|m| model_key(m) == key) {
        return Row {
            label: "型号",
            listing: plain(model),
            cert: plain(same.clone()),
            mark: Mark::Same,
            note: (cert.models.models.len() > 1)
                .then(|| format!("证书共列 {} 个型号：{all}", cert.models.models.len())),
        };
    }
    let closest = cert
        .models
        .models
        .iter()
        .map(|m| (strsim::levenshtein(&model_key(m), &key), m))
        .min_by_key(|(d, m)| (*d, m.len()));
    match closest {
        None => Row {
            label: "型号",
            listing: plain(model),
            cert: plain(cert.models_raw.clone()),
            mark: Mark::Unknown,
            note: Some("证书未列出具体型号（见附件），请人工核对".into()),
        },
        Some((distance, m)) => {
            // Characters are marked only when the models are alike: marking
            // most of two unrelated models says nothing.
            let alike = distance * 2 <= key.chars().count().max(model_key(m).chars().count());
            let (listing, cert_side) = if alike {
                diff(model, m)
            } else {
                (plain(model), plain(m.clone()))
            };
            let mut note = format!("证书中最接近的型号为“{m}”，相差 {distance} 个字符");
            if cert.models.models.len() > 1 {
                note.push_str(&format!(
                    "；证书共列 {} 个型号：{all}",
                    cert.models.models.len()
                ));
            }
            if incomplete {
                note.push_str("；证书型号列表不完整（见附件），请人工核对");
            }
            Row {
                label: "型号",
                listing,
                cert: cert_side,
                mark: if incomplete {
                    Mark::Unknown
                } else {
                    Mark::Differs
                },
                note: Some(note),
            }
        }
    }
}

fn status_row(cert: &Certificate) -> Row {
    let label = cert.status.label_zh();
    let raw = cert.status_raw.trim();
    let text = if raw.is_empty() || raw.starts_with(label) {
        raw.strip_prefix(label)
            .map_or(label.to_string(), |rest| format!("{label}{rest}"))
    } else {
        format!("{label}（{raw}）")
    };
    let mut notes = Vec::new();
    if let Some(d) = cert.status_changed_on {
        notes.push(format!("状态变更日期：{d}"));
    }
    if let Some(r) = cert.status_reason.as_deref().filter(|r| !r.is_empty()) {
        notes.push(format!("原因：{r}"));
    }
    Row {
        label: "证书状态",
        listing: plain("商品页引用该证书"),
        cert: vec![Segment {
            text,
            differs: cert.status != CertStatus::Valid,
        }],
        mark: if cert.status == CertStatus::Valid {
            Mark::Same
        } else {
            Mark::Differs
        },
        note: (!notes.is_empty()).then(|| notes.join("；")),
    }
}

fn validity_row(cert: &Certificate, as_of: NaiveDate) -> Row {
    let expired = cert.expires_on < as_of;
    Row {
        label: "有效期",
        listing: plain(format!("核查日期 {as_of}")),
        cert: vec![Segment {
            text: format!("{} 至 {}", cert.issued_on, cert.expires_on),
            differs: expired,
        }],
        mark: if expired { Mark::Differs } else { Mark::Same },
        note: expired.then(|| format!("证书已于 {} 到期", cert.expires_on)),
    }
}

/// Marks the characters of `a` and `b` outside their longest common
/// subsequence. Models are short (tens of characters): the quadratic table
/// is cheap.
pub fn diff(a: &str, b: &str) -> (Vec<Segment>, Vec<Segment>) {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() * b.len() > 40_000 {
        return (plain_diff(&a, true), plain_diff(&b, true));
    }
    let eq = |x: char, y: char| x.eq_ignore_ascii_case(&y);
    let mut t = vec![vec![0u16; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            t[i][j] = if eq(a[i], b[j]) {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut in_a, mut in_b) = (vec![false; a.len()], vec![false; b.len()]);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if eq(a[i], b[j]) {
            in_a[i] = true;
            in_b[j] = true;
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (segments(&a, &in_a), segments(&b, &in_b))
}

fn plain_diff(chars: &[char], differs: bool) -> Vec<Segment> {
    vec![Segment {
        text: chars.iter().collect(),
        differs,
    }]
}

fn segments(chars: &[char], common: &[bool]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (c, &same) in chars.iter().zip(common) {
        match out.last_mut() {
            Some(s) if s.differs != same => s.text.push(*c),
            _ => out.push(Segment {
                text: c.to_string(),
                differs: !same,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ModelList;
    use crate::matching::brand::Brand;
    use proptest::prelude::*;

    fn cert() -> Certificate {
        Certificate {
            cert_no: "2021010201123456".into(),
            status: CertStatus::Valid,
            status_raw: "有效".into(),
            category_code: Some("0201".into()),
            product_name: "转换器".into(),
            models_raw: "GN-B303U，GN-B304U".into(),
            models: ModelList {
                models: vec!["GN-B303U".into(), "GN-B304U".into()],
                complete: true,
            },
            applicant: "公牛集团股份有限公司".into(),
            manufacturer: "公牛集团股份有限公司".into(),
            factory: "宁波公牛电器有限公司".into(),
            issued_on: NaiveDate::from_ymd_opt(2021, 3, 1).unwrap(),
            expires_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            first_issued_on: None,
            issuer: None,
            status_changed_on: None,
            status_reason: None,
            trademark: None,
        }
    }

    fn brands() -> BrandTable {
        BrandTable::new(vec![
            Brand {
                name: "公牛".into(),
                aliases: vec!["BULL".into()],
                companies: vec!["公牛集团股份有限公司".into()],
                title_search: true,
            },
            Brand {
                name: "德力西".into(),
                aliases: vec![],
                companies: vec!["德力西电气有限公司".into()],
                title_search: true,
            },
        ])
    }

    fn text(segs: &[Segment]) -> String {
        segs.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn one_digit_off_model_is_marked() {
        let c = compare(
            Some("公牛"),
            Some("GN-B305U"),
            &cert(),
            &brands(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        );
        let model = &c.rows[1];
        assert_eq!(model.mark, Mark::Differs);
        assert_eq!(
            model.listing,
            vec![
                Segment {
                    text: "GN-B30".into(),
                    differs: false
                },
                Segment {
                    text: "5".into(),
                    differs: true
                },
                Segment {
                    text: "U".into(),
                    differs: false
                }
            ]
        );
        assert!(model.note.as_deref().unwrap().contains("GN-B303U"));
        assert_eq!(c.rows[0].mark, Mark::Same);
        assert_eq!(c.rows[2].mark, Mark::Same);
        assert_eq!(c.rows[3].mark, Mark::Same);
    }

    #[test]
    fn other_company_expiry_and_status() {
        let mut cert = cert();
        cert.status = CertStatus::Suspended;
        cert.status_raw = "暂停（企业申请）".into();
        let c = compare(
            Some("德力西"),
            Some("gn b304u"),
            &cert,
            &brands(),
            NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        );
        assert_eq!(c.rows[0].mark, Mark::Differs);
        assert!(
            c.rows[0]
                .note
                .as_deref()
                .unwrap()
                .contains("德力西电气有限公司")
        );
        assert_eq!(c.rows[1].mark, Mark::Same);
        assert_eq!(c.rows[2].mark, Mark::Differs);
        assert_eq!(text(&c.rows[2].cert), "暂停（企业申请）");
        assert_eq!(c.rows[3].mark, Mark::Differs);
        let none = compare(
            None,
            None,
            &cert,
            &brands(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        );
        assert_eq!(none.rows[0].mark, Mark::Unknown);
        assert_eq!(none.rows[1].mark, Mark::Unknown);
    }

    proptest! {
        /// The segments always spell the two inputs, whatever they are.
        #[test]
        fn diff_segments_rebuild_inputs(a in "\\PC{0,30}", b in "\\PC{0,30}") {
            let (sa, sb) = diff(&a, &b);
            prop_assert_eq!(text(&sa), a.clone());
            prop_assert_eq!(text(&sb), b.clone());
            if a == b {
                prop_assert!(sa.iter().all(|s| !s.differs));
            }
        }
    }
}
