//! Act stage in the workspace: notice batches — issuing one (supervisor),
//! its files, what became of each listing, the platform's replies (typed
//! in or uploaded as the returned list) — and each platform's record.

use super::AppState;
use super::charts;
use super::error::AppError;
use super::labels::notice_state;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::{Layout, local_time};
use crate::notice::{self, reply};
use crate::review::auth::Permission;
use crate::store::{Ack, BatchOutcome, NoticeBatch, NoticeLine, PlatformPeriod};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use std::sync::Arc;

// ---- views ------------------------------------------------------------------------------

pub struct Candidate {
    pub platform: String,
    /// The platform's name for people (京东).
    pub label: String,
    /// How the letter addresses it; empty when not set.
    pub addressee: String,
    pub count: i64,
    /// Settings the letter would still print as placeholders (Chinese),
    /// or why it cannot be checked: issuing is refused until they are filled.
    pub unready: Vec<String>,
}

pub struct BatchRow {
    pub id: i64,
    pub number: String,
    /// The platform's name for people.
    pub platform: String,
    pub issued: String,
    pub deadline: String,
    pub outcome: Option<BatchOutcome>,
    pub median: String,
}

pub struct PeriodRow {
    pub p: PlatformPeriod,
    /// The platform's name for people.
    pub label: String,
    pub rate: String,
    pub median: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
pub struct NoticesView {
    pub layout: Layout,
    pub can_issue: bool,
    pub candidates: Vec<Candidate>,
    pub batches: Vec<BatchRow>,
    pub periods: Vec<PeriodRow>,
    pub chart: String,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub struct LineRow {
    pub l: NoticeLine,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub how: &'static str,
    pub since: String,
    pub url: Option<String>,
}

#[derive(Template)]
#[template(path = "notice_batch.html")]
pub struct BatchView {
    pub layout: Layout,
    pub b: NoticeBatch,
    /// The platform's name for people, and how the letter addressed it.
    pub platform_label: String,
    pub addressee: String,
    pub issued: String,
    pub files: Vec<(String, &'static str)>,
    pub has_zip: bool,
    pub lines: Vec<LineRow>,
    pub can_reply: bool,
    pub message: Option<String>,
    pub problems: Vec<String>,
}

// ---- list and issue ---------------------------------------------------------------------

pub async fn list(State(state): State<Arc<AppState>>, user: CurrentUser) -> PageResult {
    user.require(Permission::View)?;
    list_page(&state, &user, None, None, StatusCode::OK).await
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let store = &state.store;
    let candidates = store
        .notice_candidate_counts()
        .await?
        .into_iter()
        .map(|(platform, count)| Candidate {
            label: state.platform_label(&platform).to_string(),
            addressee: state
                .notices
                .addressee(&platform)
                .unwrap_or_default()
                .to_string(),
            unready: match notice::letter_placeholders(&state.notices, &platform) {
                Ok(found) => found.iter().map(|p| p.zh()).collect(),
                Err(e) => vec![format!("通知书模板有误，请联系管理员：{e}")],
            },
            platform,
            count,
        })
        .collect();
    let outcomes = store.notice_outcomes(None).await?;
    let batches = store
        .notice_batches(None)
        .await?
        .into_iter()
        .map(|b| {
            let outcome = outcomes.iter().find(|o| o.number == b.number).cloned();
            BatchRow {
                id: b.id,
                issued: local_time(&b.issued_at),
                median: days(outcome.as_ref().and_then(|o| o.median_days_to_removal)),
                number: b.number,
                platform: state.platform_label(&b.platform).to_string(),
                deadline: b.deadline,
                outcome,
            }
        })
        .collect();
    let perf = store.platform_performance().await?;
    let chart = performance_chart(state, &perf);
    let periods = perf
        .into_iter()
        .map(|p| PeriodRow {
            rate: format!("{:.0}%", p.removal_rate * 100.0),
            median: days(p.median_days_to_removal),
            label: state.platform_label(&p.platform).to_string(),
            p,
        })
        .collect();
    let view = NoticesView {
        layout: layout(state, user, "notices", "下架通知"),
        can_issue: user.can(Permission::IssueNotices),
        candidates,
        batches,
        periods,
        chart,
        message,
        error,
    };
    page(&view, status)
}

fn days(d: Option<f64>) -> String {
    d.map_or("—".into(), |d| format!("{d:.1} 天"))
}

/// Removal rate by month, one line per platform.
fn performance_chart(state: &AppState, perf: &[PlatformPeriod]) -> String {
    let mut months: Vec<String> = perf.iter().map(|p| p.month.clone()).collect();
    months.sort();
    months.dedup();
    if months.is_empty() {
        return String::new();
    }
    let mut platforms: Vec<String> = perf.iter().map(|p| p.platform.clone()).collect();
    platforms.sort();
    platforms.dedup();
    let series: Vec<(String, Vec<i64>)> = platforms
        .into_iter()
        .map(|pl| {
            let values = months
                .iter()
                .map(|m| {
                    perf.iter()
                        .find(|p| p.platform == *pl && &p.month == m)
                        .map_or(0, |p| (p.removal_rate * 100.0).round() as i64)
                })
                .collect();
            (state.platform_label(&pl).to_string(), values)
        })
        .collect();
    charts::lines(&months, &series, 640, 220)
}

#[derive(serde::Deserialize)]
pub struct IssueForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    platform: String,
}

pub async fn issue(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Form(form): Form<IssueForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::IssueNotices)?;
    let today = state
        .store
        .now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive();
    let by = user.user.username.clone();
    match notice::issue(
        &state.store,
        &state.notices,
        &state.platforms,
        &form.platform,
        today,
        &by,
        &state.notices.out_dir,
    )
    .await
    {
        Ok(w) => Ok(Redirect::to(&format!("/notices/{}?issued=1", w.batch.id)).into_response()),
        Err(notice::NoticeError::Nothing(_)) => {
            let label = state.platform_label(&form.platform);
            list_page(
                &state,
                &user,
                None,
                Some(format!("平台“{label}”没有待发通知的已确认问题")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(notice::NoticeError::UnknownPlatform { known, .. }) => {
            list_page(
                &state,
                &user,
                None,
                Some(format!(
                    "未知平台“{}”。已知平台：{}",
                    form.platform,
                    known.join("、")
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(notice::NoticeError::Placeholders { found, .. }) => {
            let what: Vec<String> = found.iter().map(|p| p.zh()).collect();
            list_page(
                &state,
                &user,
                None,
                Some(format!(
                    "未签发，未占用文号：通知书中仍有未填写的设置。{}。",
                    what.join("；")
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            tracing::error!(platform = %form.platform, "issuing a notice failed: {e}");
            list_page(
                &state,
                &user,
                None,
                Some(format!("签发失败：{e}")),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .await
        }
    }
}

// ---- one batch --------------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
pub struct BatchQuery {
    issued: Option<String>,
}

pub async fn batch(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<BatchQuery>,
) -> PageResult {
    user.require(Permission::View)?;
    let message = q.issued.map(|_| "通知已签发，文件已生成。".to_string());
    batch_page(&state, &user, id, message, Vec::new(), StatusCode::OK).await
}

/// Files of a batch folder offered for download, with their labels.
const FILES: [(&str, &str); 6] = [
    ("letter.pdf", "通知书（PDF）"),
    ("letter.html", "通知书（网页，可打印）"),
    ("list.xlsx", "商品清单（Excel）"),
    ("list.csv", "商品清单（CSV）"),
    ("list.json", "商品清单（JSON）"),
    ("SHA256SUMS", "校验值清单"),
];

async fn batch_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    message: Option<String>,
    problems: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let b = state
        .store
        .notice_batch(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let folder = b.folder.as_deref().map(std::path::Path::new);
    let files = FILES
        .iter()
        .filter(|(name, _)| folder.is_some_and(|f| f.join(name).is_file()))
        .map(|(n, l)| (n.to_string(), *l))
        .collect();
    let has_zip = folder.is_some_and(|f| f.with_extension("zip").is_file());
    let lines = state
        .store
        .notice_lines(id)
        .await?
        .into_iter()
        .map(|l| {
            let (state_label, state_class) = notice_state(&l.state);
            LineRow {
                state_label,
                state_class,
                how: notice::how_label(l.verify_note.as_deref()),
                since: local_time(&l.state_at),
                url: l
                    .url
                    .clone()
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://")),
                l,
            }
        })
        .collect();
    let view = BatchView {
        layout: layout(state, user, "notices", b.number.clone()),
        platform_label: state.platform_label(&b.platform).to_string(),
        addressee: state
            .notices
            .addressee(&b.platform)
            .unwrap_or_default()
            .to_string(),
        issued: local_time(&b.issued_at),
        files,
        has_zip,
        lines,
        can_reply: user.can(Permission::RecordReplies),
        message,
        problems,
        b,
    };
    page(&view, status)
}

#[derive(serde::Deserialize)]
pub struct ReplyForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    item_id: String,
    text: String,
    date: Option<String>,
}

pub async fn reply(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::RecordReplies)?;
    let text = form.text.trim();
    if text.is_empty() {
        return batch_page(
            &state,
            &user,
            id,
            None,
            vec!["请填写平台的处理结果".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let date = form
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let at = match date.map(reply::parse_date) {
        Some(None) => {
            return batch_page(
                &state,
                &user,
                id,
                None,
                vec![format!("处理日期“{}”无法识别", date.unwrap_or(""))],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Some(Some(d)) => Some(d),
        None => None,
    };
    let ack = Ack {
        item_id: form.item_id.trim().to_string(),
        text: text.chars().take(500).collect(),
        at,
    };
    let mut report = reply::ReplyReport::default();
    reply::record(
        &state.store,
        id,
        vec![(0, ack)],
        "页面录入",
        &user.user.username,
        &mut report,
    )
    .await?;
    if report.recorded == 1 {
        Ok(Redirect::to(&format!("/notices/{id}")).into_response())
    } else {
        Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "该商品编号不在本批通知中",
        ))
    }
}

pub async fn reply_file(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> PageResult {
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("上传内容无法读取：{e}")))?
    {
        match field.name() {
            Some("_csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("reply").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::bad_request(format!("上传文件无法读取：{e}")))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    user.check_csrf(&csrf)?;
    user.require(Permission::RecordReplies)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return batch_page(
            &state,
            &user,
            id,
            None,
            vec!["请选择平台回传的清单文件（xlsx 或 csv）".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    state
        .store
        .notice_batch(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    // The reader works on files: keep the upload's extension so it knows the format.
    let ext = std::path::Path::new(&name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "csv".into());
    let tmp = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .map_err(|e| {
            AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("无法保存上传文件：{e}"),
            )
        })?;
    std::fs::write(tmp.path(), &bytes).map_err(|e| {
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("无法保存上传文件：{e}"),
        )
    })?;
    let list = match crate::notice::list::ListTemplate::load(&state.notices.templates_dir) {
        Ok(list) => list,
        Err(e) => {
            return batch_page(
                &state,
                &user,
                id,
                None,
                vec![format!("清单模板有误，请联系管理员：{e}")],
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .await;
        }
    };
    match reply::import(
        &state.store,
        id,
        tmp.path(),
        &list,
        &name,
        &user.user.username,
    )
    .await
    {
        Ok(r) => {
            let message = format!(
                "已导入“{name}”：记录 {} 条平台回复，{} 行平台尚未填写。",
                r.recorded, r.blank
            );
            let problems = r
                .problems
                .iter()
                .map(|p| {
                    format!(
                        "第 {} 行{}：{}",
                        p.line,
                        p.item_id
                            .as_deref()
                            .map(|i| format!("（{i}）"))
                            .unwrap_or_default(),
                        p.problem
                    )
                })
                .collect();
            batch_page(&state, &user, id, Some(message), problems, StatusCode::OK).await
        }
        Err(reply::ReplyError::Store(e)) => Err(e.into()),
        Err(e) => {
            // Name the user's file, not the temporary one.
            let msg = e
                .to_string()
                .replace(&tmp.path().display().to_string(), &name);
            batch_page(
                &state,
                &user,
                id,
                None,
                vec![format!("文件无法导入：{msg}")],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Serves a file of a batch's folder (only those in [`FILES`], or the zip).
pub async fn file(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path((id, name)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    user.require(Permission::View)?;
    let b = state
        .store
        .notice_batch(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let folder = std::path::PathBuf::from(b.folder.ok_or_else(AppError::not_found)?);
    let (path, download) = if name == "batch.zip" {
        let zip = folder.with_extension("zip");
        let download = zip
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "batch.zip".into());
        (zip, download)
    } else if FILES.iter().any(|(n, _)| *n == name) {
        (folder.join(&name), format!("{}-{name}", b.number))
    } else {
        return Err(AppError::not_found());
    };
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::not_found())?;
    let (mime, inline) = match name.rsplit('.').next() {
        Some("pdf") => ("application/pdf", true),
        Some("html") => ("text/html; charset=utf-8", true),
        Some("xlsx") => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            false,
        ),
        Some("csv") => ("text/csv; charset=utf-8", false),
        Some("json") => ("application/json", false),
        Some("zip") => ("application/zip", false),
        _ => ("text/plain; charset=utf-8", false),
    };
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        ascii_name(&download),
        utf8_percent(&download)
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            // The letter is the bureau's own document, but it lists
            // listing text: no script, nothing from elsewhere.
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn ascii_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn utf8_percent(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_for_files() {
        assert_eq!(
            ascii_name("市监CCC〔2026〕1号-list.xlsx"),
            "__CCC_2026_1_-list.xlsx"
        );
    }
}
