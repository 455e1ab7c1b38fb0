//! Synthetic data for benchmarks: a certificate export of any size, a
//! platform feed whose true verdicts are known by construction, and the
//! truth file. Deterministic for a given seed.

use crate::certdb::Catalog;
use crate::matching::BrandTable;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use std::io::{BufWriter, Write};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub certs: usize,
    pub listings: usize,
    pub seed: u64,
}

/// The date the truth file's verdicts hold on.
pub const AS_OF: &str = "2026-06-30";

const BRAND_CHARS: &[char] = &[
    '澜', '翔', '晟', '昊', '泽', '沐', '锦', '辰', '骏', '岳', '霖', '琪', '瀚', '睿', '熙', '铭',
    '轩', '逸', '鑫', '淼', '焱', '垚', '犇', '骞', '珩', '玥', '蔚', '璟', '琰', '翊', '煜', '晗',
    '昕', '曦', '皓', '颢', '钧', '弈',
];
const CITIES: &[&str] = &[
    "深圳市",
    "宁波市",
    "佛山市",
    "中山市",
    "慈溪市",
    "汕头市",
    "义乌市",
    "东莞市",
    "苏州市",
    "温州市",
];
const KINDS: &[&str] = &["电器", "电子科技", "实业", "智能科技", "玩具", "家电"];
const ISSUERS: &[(&str, &str)] = &[
    ("01", "中国质量认证中心"),
    ("15", "中国建材检验认证集团股份有限公司"),
    ("08", "威凯检测技术有限公司"),
];
const STATUSES: &[(&str, &str)] = &[
    ("有效", ""),
    ("暂停", "监督抽样不合格"),
    ("撤销", "暂停期满未整改"),
    ("注销", "获证企业申请注销"),
    ("过期失效", "证书到期未换证"),
];
const HEADER: &str = "证书编号,证书状态,产品类别代码,产品名称,规格型号,认证委托人名称,生产者名称,生产企业名称,颁证日期,证书到期日期,发证机构名称,状态变更日期,状态变更原因";

struct Company {
    name: String,
    brand: String,
    prefix: String,
}

struct Cert {
    no: String,
    company: usize,
    code: usize,
    models: Vec<String>,
    complete: bool,
    /// Verdict on AS_OF when a listing covers it.
    verdict: &'static str,
}

fn companies(n: usize, rng: &mut SmallRng) -> Vec<Company> {
    let table = BrandTable::embedded();
    let mut out = Vec::with_capacity(n);
    let mut used = std::collections::HashSet::new();
    let mut i = 0usize;
    while out.len() < n {
        let k = BRAND_CHARS.len();
        let brand: String = [
            BRAND_CHARS[i % k],
            BRAND_CHARS[(i / k) % k],
            BRAND_CHARS[(i / k / k) % k],
        ]
        .iter()
        .take(if i < k * k { 2 } else { 3 })
        .collect();
        i += 1;
        if !used.insert(brand.clone())
            || table.lookup(&brand).is_some()
            || table.lookalike(&brand).is_some()
        {
            continue;
        }
        let idx = out.len();
        let prefix = format!(
            "{}{}",
            (b'A' + (idx % 26) as u8) as char,
            (b'A' + (idx / 26 % 26) as u8) as char
        );
        let name = format!(
            "{}{}{}有限公司",
            CITIES.choose(rng).expect("cities"),
            brand,
            KINDS.choose(rng).expect("kinds")
        );
        out.push(Company {
            name,
            brand,
            prefix,
        });
    }
    out
}

/// Writes `certificates.csv`, `listings.jsonl` and `truth.csv` into `dir`.
pub fn generate(opts: &SynthOptions, dir: &Path) -> std::io::Result<String> {
    let mut rng = SmallRng::seed_from_u64(opts.seed);
    let catalog = Catalog::embedded();
    let entries: Vec<_> = catalog
        .entries()
        .iter()
        .filter(|e| e.group != "其他")
        .collect();
    let comps = companies((opts.certs / 20).clamp(50, 50_000), &mut rng);
    let as_of = chrono::NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").expect("date");
    let mut certs_out = BufWriter::new(std::fs::File::create(dir.join("certificates.csv"))?);
    certs_out.write_all(b"\xEF\xBB\xBF")?;
    writeln!(certs_out, "{HEADER}")?;
    let mut certs: Vec<Cert> = Vec::with_capacity(opts.certs);
    let mut model_counter = 10_000u64;
    for i in 0..opts.certs {
        let company = rng.random_range(0..comps.len());
        let code = rng.random_range(0..entries.len());
        let (body, issuer) = ISSUERS[i % ISSUERS.len()];
        let year = 2015 + (i / 1_000_000) as i32 % 10 + rng.random_range(0..8);
        let no = format!("{year}{body}{}{:06}", entries[code].code, i % 1_000_000);
        let s = rng.random_range(0..100);
        let status = match s {
            0..80 => 0,
            80..85 => 1,
            85..90 => 2,
            90..95 => 3,
            _ => 4,
        };
        let issued = chrono::NaiveDate::from_ymd_opt(
            year.min(2025),
            rng.random_range(1..=12),
            rng.random_range(1..=28),
        )
        .expect("date");
        let expires = issued + chrono::Duration::days(5 * 365);
        let attachment = rng.random_range(0..100) < 3;
        let n_models = rng.random_range(1..=4);
        let mut models = Vec::new();
        for _ in 0..n_models {
            model_counter += 1;
            // Every model ends in 0 before its letter: a changed last digit is never a real model.
            models.push(format!(
                "{}-{}0{}",
                comps[company].prefix,
                model_counter,
                ['A', 'B', 'S', 'X'][rng.random_range(0..4)]
            ));
        }
        let raw = if attachment {
            "见附件".to_string()
        } else {
            let sep = ["、", ",", ";", " "][rng.random_range(0..4)];
            format!(
                "{} 220V~ 50Hz {}W",
                models.join(sep),
                rng.random_range(5..30) * 100
            )
        };
        let changed = if status > 0 {
            (issued + chrono::Duration::days(rng.random_range(200..1400)))
                .min(as_of - chrono::Duration::days(1))
                .to_string()
        } else {
            String::new()
        };
        let verdict = match status {
            1 => "suspended",
            2 => "revoked",
            3 => "cancelled",
            4 => "expired",
            _ if expires < as_of => "expired",
            _ => "compliant",
        };
        let verdict = if status == 1 && expires < as_of {
            "expired"
        } else {
            verdict
        };
        writeln!(
            certs_out,
            "{no},{},{},{},\"{raw}\",{},{},{},{issued},{expires},{issuer},{changed},{}",
            STATUSES[status].0,
            entries[code].code,
            entries[code].name,
            comps[company].name,
            comps[company].name,
            comps[company].name,
            STATUSES[status].1
        )?;
        certs.push(Cert {
            no,
            company,
            code,
            models,
            complete: !attachment,
            verdict,
        });
    }
    certs_out.flush()?;

    let by_verdict = |v: &str| -> Vec<usize> {
        certs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.verdict == v && c.complete)
            .map(|(i, _)| i)
            .collect()
    };
    let valid = by_verdict("compliant");
    let invalid: Vec<usize> = certs
        .iter()
        .enumerate()
        .filter(|(_, c)| c.verdict != "compliant" && c.complete)
        .map(|(i, _)| i)
        .collect();
    let mut feed = BufWriter::new(std::fs::File::create(dir.join("listings.jsonl"))?);
    let mut truth = BufWriter::new(std::fs::File::create(dir.join("truth.csv"))?);
    writeln!(truth, "item_id,verdict,cert_no")?;
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for j in 0..opts.listings {
        let item_id = format!("S{:08}", j);
        let kind = rng.random_range(0..100);
        let pick = |v: &Vec<usize>, rng: &mut SmallRng| v[rng.random_range(0..v.len())];
        let (verdict, cert_ix, cite, model, brand): (
            &str,
            Option<usize>,
            Option<String>,
            String,
            String,
        ) = match kind {
            0..35 if !valid.is_empty() => {
                let c = pick(&valid, &mut rng);
                (
                    "compliant",
                    Some(c),
                    Some(certs[c].no.clone()),
                    certs[c].models[0].clone(),
                    comps[certs[c].company].brand.clone(),
                )
            }
            35..45 if !valid.is_empty() => {
                let c = pick(&valid, &mut rng);
                (
                    "compliant",
                    Some(c),
                    None,
                    certs[c].models.last().cloned().unwrap_or_default(),
                    comps[certs[c].company].brand.clone(),
                )
            }
            45..53 if !valid.is_empty() => {
                let c = pick(&valid, &mut rng);
                let m = &certs[c].models[0];
                let off = one_digit_off(m);
                (
                    "cert_mismatch",
                    Some(c),
                    Some(certs[c].no.clone()),
                    off,
                    comps[certs[c].company].brand.clone(),
                )
            }
            53..58 if !valid.is_empty() => {
                let c = pick(&valid, &mut rng);
                let other =
                    (certs[c].company + 1 + rng.random_range(0..comps.len() - 1)) % comps.len();
                (
                    "cert_mismatch",
                    Some(c),
                    Some(certs[c].no.clone()),
                    certs[c].models[0].clone(),
                    comps[other].brand.clone(),
                )
            }
            58..66 => {
                let no = format!(
                    "20{:02}99{}{:06}",
                    rng.random_range(10..26),
                    entries[rng.random_range(0..entries.len())].code,
                    rng.random_range(0..1_000_000)
                );
                (
                    "cert_not_found",
                    None,
                    Some(no),
                    format!(
                        "{}-{}7",
                        comps[0].prefix,
                        rng.random_range(100_000..999_999)
                    ),
                    comps[rng.random_range(0..comps.len())].brand.clone(),
                )
            }
            66..76 if !invalid.is_empty() => {
                let c = pick(&invalid, &mut rng);
                (
                    certs[c].verdict,
                    Some(c),
                    Some(certs[c].no.clone()),
                    certs[c].models[0].clone(),
                    comps[certs[c].company].brand.clone(),
                )
            }
            76..88 => {
                let co = rng.random_range(0..comps.len());
                (
                    "uncertified",
                    None,
                    None,
                    format!(
                        "{}-{}7Z",
                        comps[co].prefix,
                        rng.random_range(100_000..999_999)
                    ),
                    comps[co].brand.clone(),
                )
            }
            _ => (
                "not_in_scope",
                None,
                None,
                String::new(),
                comps[rng.random_range(0..comps.len())].brand.clone(),
            ),
        };
        let code = cert_ix
            .map(|c| certs[c].code)
            .unwrap_or_else(|| rng.random_range(0..entries.len()));
        let title = if verdict == "not_in_scope" {
            let things = [
                "手机壳",
                "纯棉T恤",
                "收纳筐",
                "保温杯",
                "数据线收纳包",
                "桌面摆件",
            ];
            format!(
                "{brand} {} 新款 家用",
                things[rng.random_range(0..things.len())]
            )
        } else {
            let kw = &entries[code].keywords[rng.random_range(0..entries[code].keywords.len())];
            format!("{brand}{kw} {model} 家用 2026新款 正品")
        };
        let mut params = serde_json::Map::new();
        params.insert("品牌".into(), brand.clone().into());
        if !model.is_empty() && rng.random_bool(0.7) {
            params.insert("型号".into(), model.clone().into());
        }
        if let Some(no) = &cite {
            params.insert("3C证书编号".into(), no.clone().into());
        }
        let line = serde_json::json!({
            "platform": "synth", "item_id": item_id, "url": format!("https://synth.invalid/item/{item_id}"),
            "title": title, "params": params, "seller": format!("{brand}旗舰店"), "price": format!("{}.00", rng.random_range(10..2000)),
        });
        writeln!(feed, "{line}")?;
        writeln!(
            truth,
            "{item_id},{verdict},{}",
            cert_ix.map(|c| certs[c].no.as_str()).unwrap_or("")
        )?;
        *counts.entry(verdict).or_default() += 1;
    }
    feed.flush()?;
    truth.flush()?;
    Ok(format!(
        "wrote {} certificates ({} companies) and {} listings to {}; true verdicts as of {AS_OF}: {:?}",
        opts.certs,
        comps.len(),
        opts.listings,
        dir.display(),
        counts
    ))
}

/// The model with its last digit changed (models here end in `0` + a letter).
fn one_digit_off(model: &str) -> String {
    let mut chars: Vec<char> = model.chars().collect();
    if let Some(pos) = chars.iter().rposition(|c| c.is_ascii_digit()) {
        chars[pos] = if chars[pos] == '0' { '7' } else { '0' };
    }
    chars.into_iter().collect()
}
