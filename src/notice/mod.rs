//! Act stage: takedown notices. A batch lists a platform's confirmed
//! findings under the bureau's next document number and is written as one
//! folder: the letter (HTML from an editable template), the list as XLSX,
//! CSV and JSON, the captured pages, a manifest and the folder's SHA-256 list.
//! Before a number is taken, [`policy`] checks that the platform is known
//! and that the letter carries no placeholder setting. Platforms are named
//! by their Chinese label and times are Beijing time in everything written.
//! `feed`: the risk feed to platforms.

pub mod feed;

use crate::clock::beijing_time;
use crate::config::NoticeSettings;
use crate::domain::Verdict;
use crate::domain::decision::Measure;
use crate::extract::PlatformLabels;
use crate::store::{NoticeBatch, NoticeRow, Store, StoreError};
use chrono::{Datelike, NaiveDate};
use list::{ListTemplate, ListTemplateError};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub mod list;
pub mod pdf;
pub mod policy;
pub mod reply;
pub mod verify;

pub use policy::Placeholder;

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no confirmed findings of platform `{0}` wait for a notice")]
    Nothing(String),
    #[error("unknown platform `{platform}`{hint}; the known platforms are: {}", known.join(", "))]
    UnknownPlatform {
        platform: String,
        hint: String,
        /// Each known platform as `jd（京东）`.
        known: Vec<String>,
    },
    #[error(
        "the letter to `{platform}` would print settings that are still placeholders, so nothing was issued and no number taken: {}; fill them in with `cccwatch init` (or in config/local.toml) and issue again",
        found.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ")
    )]
    Placeholders {
        platform: String,
        found: Vec<Placeholder>,
    },
    #[error("reading the letter template {path}: {source}")]
    Template {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the letter template {path} is invalid: {source}")]
    Render {
        path: PathBuf,
        source: minijinja::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Xlsx { path: PathBuf, source: XlsxError },
    #[error("writing {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error(transparent)]
    List(#[from] ListTemplateError),
    #[error("stored evidence page {page_id} is damaged: {source}")]
    Evidence {
        page_id: i64,
        source: std::io::Error,
    },
}

/// The built-in letter, used when `notices.templates_dir` has none.
pub const DEFAULT_LETTER: &str = include_str!("../../config/notices/letter.html");

/// `{prefix}CCC〔{year}〕{seq}号` with the values filled in.
pub fn format_number(format: &str, prefix: &str, year: i32, seq: i64) -> String {
    format
        .replace("{prefix}", prefix)
        .replace("{year}", &year.to_string())
        .replace("{seq}", &seq.to_string())
}

/// What the batch's files were, with their hashes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WrittenBatch {
    pub batch: NoticeBatch,
    pub folder: PathBuf,
    pub files: Vec<(String, String, u64)>,
    /// The folder as one zip file beside it: path and SHA-256.
    pub zip: (PathBuf, String),
    /// Why there is no `letter.pdf`, when there is none.
    pub pdf: Option<String>,
}

/// Issues a batch for `platform` and writes its folder under `out_dir`.
/// Refused before a number is taken when the platform is unknown (neither
/// a platform file in `platforms` nor listings in the store), a template is
/// broken, or the letter would print a placeholder setting.
pub async fn issue(
    store: &Store,
    settings: &NoticeSettings,
    platforms: &PlatformLabels,
    platform: &str,
    today: NaiveDate,
    issued_by: &str,
    out_dir: &Path,
) -> Result<WrittenBatch, NoticeError> {
    let mut known: Vec<String> = platforms.names().map(str::to_string).collect();
    known.extend(store.platforms().await?);
    known.sort();
    known.dedup();
    if let Some(hint) = policy::unknown_platform(platform, &known) {
        return Err(NoticeError::UnknownPlatform {
            platform: platform.to_string(),
            hint,
            known: known.iter().map(|k| platforms.described(k)).collect(),
        });
    }
    let letter_template = load_template(settings)?;
    let list = ListTemplate::load(&settings.templates_dir)?;
    let templates = Templates {
        letter: &letter_template,
        list: &list,
    };
    // A template that does not compile stops here, before anything is issued.
    let found = placeholders_in(&letter_template, settings, platform)?;
    if !found.is_empty() {
        return Err(NoticeError::Placeholders {
            platform: platform.to_string(),
            found,
        });
    }
    let deadline = today + chrono::Duration::days(settings.deadline_days);
    let (batch, rows) = store
        .issue_notice_batch(platform, today.year(), deadline, issued_by, |seq| {
            format_number(
                &settings.number_format,
                &settings.number_prefix,
                today.year(),
                seq,
            )
        })
        .await?
        .ok_or_else(|| NoticeError::Nothing(platform.to_string()))?;
    let folder = out_dir.join(format!(
        "{}-{:03}-{}",
        batch.year,
        batch.seq,
        sanitize(platform)
    ));
    let label = platforms.label(platform);
    let written = write_batch(
        store, settings, &templates, &batch, &rows, label, today, &folder,
    )
    .await?;
    store
        .set_notice_folder(batch.id, &folder.display().to_string())
        .await?;
    Ok(written)
}

/// The settings still placeholders that the letter to `platform` would
/// print (see [`policy`]); an error when the letter template is broken.
pub fn letter_placeholders(
    settings: &NoticeSettings,
    platform: &str,
) -> Result<Vec<Placeholder>, NoticeError> {
    placeholders_in(&load_template(settings)?, settings, platform)
}

fn placeholders_in(
    (text, path): &(String, PathBuf),
    settings: &NoticeSettings,
    platform: &str,
) -> Result<Vec<Placeholder>, NoticeError> {
    let mut env = minijinja::Environment::new();
    env.add_template("letter.html", text)
        .map_err(|source| NoticeError::Render {
            path: path.clone(),
            source,
        })?;
    let used = env
        .get_template("letter.html")
        .map(|t| t.undeclared_variables(false))
        .unwrap_or_default();
    Ok(policy::placeholders(settings, platform, &|v| {
        used.contains(v)
    }))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn load_template(settings: &NoticeSettings) -> Result<(String, PathBuf), NoticeError> {
    let path = settings.templates_dir.join("letter.html");
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok((t, path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((
            DEFAULT_LETTER.to_string(),
            PathBuf::from("(built-in letter.html)"),
        )),
        Err(source) => Err(NoticeError::Template { path, source }),
    }
}

/// A notice state in Chinese (`removed_verified` → 已核实下架).
pub fn state_label(state: &str) -> &'static str {
    match state {
        "issued" => "已发出",
        "acknowledged" => "平台已回复",
        "still_online" => "仍在线（未到期）",
        "overdue" => "逾期仍在线",
        "removed_verified" => "已核实下架",
        "relisted" => "重新上架",
        _ => "未知",
    }
}

/// How a notice state was established, in Chinese; empty when not known.
pub fn how_label(note: Option<&str>) -> &'static str {
    match note {
        Some("page_gone") => "商品页显示已下架/不存在",
        Some("not_in_results") => "完整扫描的搜索结果中已无此商品",
        Some("online") => "扫描时仍在线",
        Some("online_after_deadline") => "期限届满后仍在线",
        Some("same_id_online") => "原链接重新上线",
        Some("new_listing") => "同一店铺以新链接上架同品牌同型号",
        _ => "",
    }
}

fn verdict_label(v: &str) -> String {
    Verdict::parse(v)
        .map(|v| v.label_zh().to_string())
        .unwrap_or_else(|| v.to_string())
}

fn measure_label(m: Option<&str>) -> &'static str {
    m.and_then(Measure::parse)
        .unwrap_or(Measure::TakeDown)
        .label_zh()
}

fn cert_status_label(s: Option<&str>) -> String {
    s.and_then(crate::domain::CertStatus::from_db)
        .map(|s| s.label_zh().to_string())
        .unwrap_or_else(|| "证书库中无此证书".to_string())
}

/// The bureau's editable files: the letter (text, path) and the list's layout.
struct Templates<'a> {
    letter: &'a (String, PathBuf),
    list: &'a ListTemplate,
}

#[allow(clippy::too_many_arguments)]
async fn write_batch(
    store: &Store,
    settings: &NoticeSettings,
    templates: &Templates<'_>,
    batch: &NoticeBatch,
    rows: &[NoticeRow],
    label: &str,
    today: NaiveDate,
    folder: &Path,
) -> Result<WrittenBatch, NoticeError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| NoticeError::Write { path, source }
    };
    std::fs::create_dir_all(folder.join("evidence")).map_err(werr(folder))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();

    // The letter.
    let (template, template_path) = templates.letter;
    let list = templates.list;
    let letter =
        render_letter(template, settings, batch, rows, label, today).map_err(|source| {
            NoticeError::Render {
                path: template_path.clone(),
                source,
            }
        })?;
    files.push(("letter.html".into(), letter.into_bytes()));

    // The list, three ways.
    let table = list.table(rows, label);
    let xlsx_path = folder.join("list.xlsx");
    files.push((
        "list.xlsx".into(),
        list_xlsx(list, &table, &batch.number).map_err(|source| NoticeError::Xlsx {
            path: xlsx_path.clone(),
            source,
        })?,
    ));
    let csv_path = folder.join("list.csv");
    files.push((
        "list.csv".into(),
        list_csv(list, &table).map_err(|source| NoticeError::Csv {
            path: csv_path.clone(),
            source,
        })?,
    ));
    let json = serde_json::json!({ "batch": batch, "listings": rows });
    files.push((
        "list.json".into(),
        serde_json::to_vec_pretty(&json).unwrap_or_default(),
    ));

    // The captured pages, as fetched.
    for r in rows {
        let Some(page_id) = r.page_id else { continue };
        let gz = store.page_body_gz(page_id).await?;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut raw)
            .map_err(|source| NoticeError::Evidence { page_id, source })?;
        files.push((
            format!("evidence/{}-{}.html", sanitize(&r.item_id), page_id),
            raw,
        ));
    }

    for (name, bytes) in &files {
        let path = folder.join(name);
        std::fs::write(&path, bytes).map_err(werr(&path))?;
    }
    let pdf_note = match pdf::print(&settings.pdf_browser, &folder.join("letter.html")).await {
        Ok(bytes) => {
            let path = folder.join("letter.pdf");
            std::fs::write(&path, &bytes).map_err(werr(&path))?;
            files.insert(1, ("letter.pdf".into(), bytes));
            None
        }
        Err(why) => {
            tracing::warn!(batch = %batch.number, "no PDF letter: {why}");
            Some(why.to_string())
        }
    };
    let listed: Vec<(String, String, u64)> = files
        .iter()
        .map(|(name, bytes)| {
            (
                name.clone(),
                hex::encode(Sha256::digest(bytes)),
                bytes.len() as u64,
            )
        })
        .collect();
    let mut listed = listed;
    let manifest = serde_json::json!({
        "number": batch.number,
        "platform": batch.platform,
        "issued_at": batch.issued_at,
        "issued_by": batch.issued_by,
        "deadline": batch.deadline,
        "listings": rows.len(),
        "pdf": pdf_note.as_deref().map_or("letter.pdf".to_string(), |why| format!("not produced: {why}")),
        "files": listed.iter().map(|(n, h, len)| serde_json::json!({"file": n, "sha256": h, "bytes": len})).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let path = folder.join("manifest.json");
    std::fs::write(&path, &manifest).map_err(werr(&path))?;
    listed.push((
        "manifest.json".into(),
        hex::encode(Sha256::digest(&manifest)),
        manifest.len() as u64,
    ));
    let sums: String = listed
        .iter()
        .map(|(n, h, _)| format!("{h}  {n}\n"))
        .collect();
    let path = folder.join("SHA256SUMS");
    std::fs::write(&path, sums).map_err(werr(&path))?;
    let zip = zip_folder(folder)?;
    Ok(WrittenBatch {
        batch: NoticeBatch {
            folder: Some(folder.display().to_string()),
            ..batch.clone()
        },
        folder: folder.to_path_buf(),
        files: listed,
        zip,
        pdf: pdf_note,
    })
}

/// The letter from its template, for a batch and its rows; `label` is the
/// platform's name for people (京东). Capture times are Beijing time.
pub fn render_letter(
    template: &str,
    settings: &NoticeSettings,
    batch: &NoticeBatch,
    rows: &[NoticeRow],
    label: &str,
    today: NaiveDate,
) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template("letter.html", template)?;
    let mut measures: Vec<&str> = rows
        .iter()
        .map(|r| measure_label(r.measure.as_deref()))
        .collect();
    measures.sort();
    measures.dedup();
    let addressee = settings.addressee(&batch.platform).unwrap_or(label);
    env.get_template("letter.html")?.render(minijinja::context! {
        issuer => settings.issuer,
        number => batch.number,
        addressee => addressee,
        platform_name => label,
        // The addressee's name in letters written before it was `addressee`.
        platform_label => addressee,
        count => rows.len(),
        deadline => chinese_date(batch.deadline.parse().unwrap_or(today)),
        issued_date => chinese_date(today),
        measures => measures.join("、"),
        contact => settings.contact,
        seal_text => settings.seal_text,
        rows => rows.iter().map(|r| minijinja::context! {
            item_id => r.item_id,
            seller => r.seller.clone().unwrap_or_default(),
            title => r.title,
            problem => verdict_label(&r.verdict),
            cert_no => r.cert_numbers.join("、"),
            captured_at => r.captured_at.as_deref().map(beijing_time).unwrap_or_default(),
            sha_short => r.evidence_sha256.as_deref().map(|s| &s[..s.len().min(16)]).unwrap_or(""),
        }).collect::<Vec<_>>(),
    })
}

/// The list as CSV (UTF-8 with a BOM), for a batch's rows to the platform
/// named `label`.
pub fn render_list_csv(
    list: &ListTemplate,
    rows: &[NoticeRow],
    label: &str,
) -> Result<Vec<u8>, csv::Error> {
    list_csv(list, &list.table(rows, label))
}

/// Writes `folder` as `folder.zip` (the folder's name as the zip's top
/// directory) and returns its path and SHA-256.
fn zip_folder(folder: &Path) -> Result<(PathBuf, String), NoticeError> {
    let zip_path = folder.with_extension("zip");
    let werr = |source: std::io::Error| NoticeError::Write {
        path: zip_path.clone(),
        source,
    };
    let root = folder
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut entries: Vec<PathBuf> = walk(folder).map_err(werr)?;
    entries.sort();
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for path in entries {
            let rel = path.strip_prefix(folder).unwrap_or(&path);
            let name = format!("{root}/{}", rel.to_string_lossy().replace('\\', "/"));
            let bytes = std::fs::read(&path).map_err(werr)?;
            zip.start_file(name, opts)
                .map_err(|e| werr(std::io::Error::other(e)))?;
            std::io::Write::write_all(&mut zip, &bytes).map_err(werr)?;
        }
        zip.finish().map_err(|e| werr(std::io::Error::other(e)))?;
    }
    let bytes = buf.into_inner();
    std::fs::write(&zip_path, &bytes).map_err(werr)?;
    Ok((zip_path, hex::encode(Sha256::digest(&bytes))))
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn list_xlsx(
    list: &ListTemplate,
    table: &[Vec<String>],
    number: &str,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(&list.sheet_name)?;
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDE7F0")
        .set_text_wrap();
    let wrap = Format::new().set_text_wrap();
    for (i, c) in list.columns.iter().enumerate() {
        sheet.set_column_width(i as u16, c.width)?;
        sheet.write_string_with_format(0, i as u16, &c.header, &header)?;
    }
    for (r, row) in table.iter().enumerate() {
        for ((c, v), col) in row.iter().enumerate().zip(&list.columns) {
            if col.wrap {
                sheet.write_string_with_format(r as u32 + 1, c as u16, v, &wrap)?;
            } else {
                sheet.write_string(r as u32 + 1, c as u16, v)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(
        0,
        0,
        table.len().max(1) as u32,
        (list.columns.len() - 1) as u16,
    )?;
    sheet.set_header(format!("&L{number}&R第 &P 页"));
    wb.save_to_buffer()
}

fn list_csv(list: &ListTemplate, table: &[Vec<String>]) -> Result<Vec<u8>, csv::Error> {
    // UTF-8 with a BOM, so that Excel opens it as Chinese text.
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(list.headers())?;
        for row in table {
            w.write_record(row.iter().map(|c| crate::export::csv_cell(c)))?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_scheme() {
        assert_eq!(
            format_number("{prefix}CCC〔{year}〕{seq}号", "梅县市监", 2026, 17),
            "梅县市监CCC〔2026〕17号"
        );
    }

    fn sample() -> (NoticeSettings, NoticeBatch, Vec<NoticeRow>) {
        let settings = NoticeSettings {
            issuer: "梅县市场监督管理局".into(),
            number_prefix: "梅县市监".into(),
            contact: "市场监管科 张三 0753-1234567".into(),
            platform_names: [(
                "jd".to_string(),
                "北京京东叁佰陆拾度电子商务有限公司".to_string(),
            )]
            .into(),
            ..NoticeSettings::default()
        };
        let batch = NoticeBatch {
            id: 1,
            platform: "jd".into(),
            year: 2026,
            seq: 17,
            number: "梅县市监CCC〔2026〕17号".into(),
            issued_at: "2026-11-29T02:00:00Z".into(),
            issued_by: "boss".into(),
            deadline: "2026-12-09".into(),
            listings: 2,
            folder: None,
        };
        let row =
            |item: &str, title: &str, verdict: &str, certs: Vec<String>, status: Option<&str>| {
                NoticeRow {
                    listing_id: 1,
                    decision_id: 1,
                    platform: "jd".into(),
                    item_id: item.into(),
                    url: Some(format!("https://item.jd.com/{item}.html")),
                    seller: Some("公牛插座旗舰店".into()),
                    shop_url: None,
                    title: title.into(),
                    brand: Some("公牛".into()),
                    model: Some("GN-H3050".into()),
                    matched_cert: certs.first().cloned(),
                    cert_numbers: certs,
                    verdict: verdict.into(),
                    cert_status: status.map(str::to_string),
                    cert_status_date: status.map(|_| "2026-10-12".to_string()),
                    cert_expires_on: None,
                    reasons: vec!["证书状态为撤销（2026-10-12）".into(), "型号一致".into()],
                    measure: Some("take_down".into()),
                    page_id: Some(7),
                    evidence_sha256: Some(
                        "3f2a9c0d1e4b5a6f00112233445566778899aabbccddeeff0011223344556677".into(),
                    ),
                    captured_at: Some("2026-11-28T01:32:10Z".into()),
                }
            };
        let rows = vec![
            row(
                "100012345670",
                "<script>alert(1)</script>公牛 GN-H3050 插座",
                "revoked",
                vec!["2021010201234567".into()],
                Some("revoked"),
            ),
            row(
                "100012345671",
                "无品牌 多孔插座 \"特价\", 包邮",
                "uncertified",
                vec![],
                None,
            ),
        ];
        (settings, batch, rows)
    }

    /// Compares `text` with the insta snapshot `tests/snapshots/NAME.snap`.
    /// A change is reviewed with `cargo insta review` (or written with
    /// `INSTA_UPDATE=always`) and committed with the code that makes it.
    fn snapshot(name: &str, text: &str) {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(name, text));
    }

    #[test]
    fn the_letter_matches_its_snapshot() {
        let (settings, batch, rows) = sample();
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let html = render_letter(DEFAULT_LETTER, &settings, &batch, &rows, "京东", day).unwrap();
        assert!(
            html.contains("2026-11-28 09:32:10") && !html.contains("01:32:10Z"),
            "capture times in Beijing time"
        );
        assert!(html.contains("北京京东叁佰陆拾度电子商务有限公司："));
        snapshot("letter.html", &html);
    }

    #[test]
    fn the_list_matches_its_snapshot() {
        let (_, _, rows) = sample();
        let csv = render_list_csv(&ListTemplate::built_in(), &rows, "京东").unwrap();
        let csv = String::from_utf8(csv).expect("the list is UTF-8");
        // What a snapshot does not show: the byte-order mark Excel needs,
        // and lines that end in LF only, the last one too.
        let csv = csv
            .strip_prefix('\u{feff}')
            .expect("a byte-order mark for Excel");
        assert!(!csv.contains('\r') && csv.ends_with('\n'), "LF line ends");
        snapshot("list.csv", csv);
    }

    #[test]
    fn the_built_in_letter_escapes_listing_text() {
        let mut env = minijinja::Environment::new();
        env.add_template("letter.html", DEFAULT_LETTER).unwrap();
        let html = env
            .get_template("letter.html")
            .unwrap()
            .render(minijinja::context! {
                issuer => "梅县市场监督管理局", number => "梅县市监CCC〔2026〕1号", addressee => "演示商城运营有限公司", platform_name => "演示商城",
                count => 1, deadline => "2026年12月9日", issued_date => "2026年11月29日", measures => "下架",
                contact => "张三", seal_text => "（盖章）",
                rows => vec![minijinja::context! { item_id => "1", seller => "s", title => "<script>x</script>",
                    problem => "证书已撤销", cert_no => "", captured_at => "", sha_short => "" }],
            })
            .unwrap();
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;") || html.contains("&lt;script&gt;")
        );
        assert!(!html.contains("<script>x"));
        assert!(html.contains("梅县市监CCC〔2026〕1号"));
    }
}
