//! Operate stage in the workspace: the scheduled scan jobs — next run, last
//! run and its result, platform locks held now, recent runs — and "run now"
//! for a supervisor.

use super::AppState;
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::{Layout, local_time};
use crate::config::Settings;
use crate::domain::RunState;
use crate::review::auth::Permission;
use crate::schedule::{self, JobStatus, RunRequest};
use crate::store::JobRun;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How the web app reaches the scheduler of `serve`.
#[derive(Clone)]
pub struct ScheduleHandle {
    pub settings: Arc<Settings>,
    /// None when the scheduler does not run in this process.
    pub requests: Option<mpsc::Sender<RunRequest>>,
}

pub struct RunRow {
    pub run: JobRun,
    pub state_label: &'static str,
    pub trigger_label: &'static str,
    pub started: String,
    pub finished: String,
}

pub struct JobRow {
    pub job: JobStatus,
    pub last: Option<RunRow>,
}

pub struct LockRow {
    pub platform: String,
    pub owner: String,
    pub purpose: String,
    pub scan_id: Option<i64>,
    pub since: String,
    pub stale: bool,
}

/// A crawling process, for people.
pub struct ProcessRow {
    pub id: String,
    pub role: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
    pub doing: String,
    pub scan_id: Option<i64>,
    pub pages: i64,
    pub beat: String,
    pub started: String,
}

/// A host lease, for people.
pub struct LeaseRow {
    pub host: String,
    pub owner: String,
    pub scan_id: Option<i64>,
    pub since: String,
}

/// The cluster's processes and leases, as the 定时任务 and 扫描记录 pages show them.
pub struct ClusterRows {
    pub processes: Vec<ProcessRow>,
    pub leases: Vec<LeaseRow>,
}

pub fn role_label(role: &str) -> &'static str {
    match role {
        "worker" => "工作进程",
        "scan" => "命令行扫描",
        "schedule" => "定时任务",
        _ => "其他",
    }
}

pub fn process_state_label(state: &str) -> &'static str {
    match state {
        "alive" => "运行中",
        "lapsed" => "已失联（租约到期后由其他进程接管）",
        "stopped" => "已停止",
        _ => "未知",
    }
}

fn ms_local(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| local_time(&t.to_rfc3339()))
        .unwrap_or_default()
}

impl ClusterRows {
    pub async fn read(state: &AppState) -> Result<ClusterRows, AppError> {
        let snap = state.cluster().await?;
        let processes = snap
            .processes
            .into_iter()
            .map(|p| ProcessRow {
                role: role_label(&p.worker.role),
                state: p.state,
                state_label: process_state_label(p.state),
                doing: p.worker.doing.clone().unwrap_or_default(),
                scan_id: p.worker.scan_id,
                pages: p.worker.pages,
                beat: format!("{} 秒前", p.seconds_since_beat),
                started: ms_local(p.worker.started_ms),
                id: p.worker.id,
            })
            .collect();
        let leases = snap
            .leases
            .into_iter()
            .map(|l| LeaseRow {
                since: ms_local(l.acquired_ms),
                host: l.host,
                owner: l.owner,
                scan_id: l.scan_id,
            })
            .collect();
        Ok(ClusterRows { processes, leases })
    }
}

#[derive(Template)]
#[template(path = "schedule.html")]
pub struct ScheduleView {
    pub layout: Layout,
    pub enabled: bool,
    pub can_run: bool,
    pub jobs: Vec<JobRow>,
    pub locks: Vec<LockRow>,
    pub cluster: ClusterRows,
    pub runs: Vec<RunRow>,
    pub message: Option<String>,
    pub error: Option<String>,
}

pub fn state_label(s: RunState) -> &'static str {
    match s {
        RunState::Running => "运行中",
        RunState::Completed => "已完成",
        RunState::CompletedWithErrors => "已完成（部分页面失败）",
        RunState::Interrupted => "已中断（下次继续）",
        RunState::Skipped => "已跳过",
        RunState::Failed => "失败",
    }
}

fn trigger_label(s: &str) -> &'static str {
    match s {
        "schedule" => "按计划",
        "catch_up" => "补运行",
        "manual" => "手动",
        _ => "未知",
    }
}

fn run_row(run: JobRun) -> RunRow {
    RunRow {
        state_label: state_label(run.state),
        trigger_label: trigger_label(&run.trigger),
        started: local_time(&run.started_at),
        finished: run
            .finished_at
            .as_deref()
            .map(local_time)
            .unwrap_or_default(),
        run,
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ScheduleQuery {
    started: Option<i64>,
}

pub async fn page_get(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(q): Query<ScheduleQuery>,
) -> PageResult {
    let message = q
        .started
        .map(|id| format!("已启动运行 #{id}，完成后结果显示在下方。"));
    schedule_page(&state, &user, message, None, StatusCode::OK).await
}

async fn schedule_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    user.require(Permission::View)?;
    let handle = state.schedule.as_ref();
    let settings = handle.map(|h| h.settings.clone()).unwrap_or_default();
    let now = state.store.now();
    let jobs = schedule::status(&state.store, &settings, now)
        .await
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .into_iter()
        .map(|mut job| {
            // Named for people; the job's settings keep the short names.
            for p in &mut job.platforms {
                *p = state.platform_label(p).to_string();
            }
            JobRow {
                last: job.last_run.clone().map(run_row),
                job,
            }
        })
        .collect();
    let stale_ms = settings.schedule.lock_stale_secs as i64 * 1000;
    let locks = state
        .store
        .platform_locks()
        .await?
        .into_iter()
        .map(|l| LockRow {
            stale: now.timestamp_millis() - l.heartbeat_ms > stale_ms,
            since: chrono::DateTime::from_timestamp_millis(l.acquired_ms)
                .map(|t| local_time(&t.to_rfc3339()))
                .unwrap_or_default(),
            platform: state.platform_label(&l.platform).to_string(),
            owner: l.owner,
            purpose: l.purpose,
            scan_id: l.scan_id,
        })
        .collect();
    let runs = state
        .store
        .job_runs(None, 50)
        .await?
        .into_iter()
        .map(run_row)
        .collect();
    let enabled = handle.is_some_and(|h| h.requests.is_some());
    let view = ScheduleView {
        layout: layout(state, user, "schedule", "定时任务"),
        enabled,
        can_run: enabled && user.can(Permission::RunScans),
        jobs,
        locks,
        cluster: ClusterRows::read(state).await?,
        runs,
        message,
        error,
    };
    page(&view, status)
}

#[derive(serde::Deserialize)]
pub struct RunForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    job: String,
}

pub async fn run_now(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Form(form): Form<RunForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::RunScans)?;
    let Some(tx) = state.schedule.as_ref().and_then(|h| h.requests.clone()) else {
        return schedule_page(
            &state,
            &user,
            None,
            Some("本服务未启用定时任务（schedule.enabled = false），无法立即运行".into()),
            StatusCode::CONFLICT,
        )
        .await;
    };
    let by = user.user.username.clone();
    let (reply, answer) = tokio::sync::oneshot::channel();
    let sent = tx
        .send(RunRequest {
            job: form.job.clone(),
            by: by.clone(),
            reply,
        })
        .await;
    let outcome = match sent {
        Ok(()) => answer
            .await
            .unwrap_or_else(|_| Err("调度器正在停止".to_string())),
        Err(_) => Err("调度器正在停止".to_string()),
    };
    match outcome {
        Ok(id) => {
            state
                .store
                .audit(
                    &by,
                    "schedule_run_now",
                    Some(&format!("job:{}", form.job)),
                    &serde_json::json!({ "job": form.job, "run": id }),
                )
                .await?;
            Ok(Redirect::to(&format!("/schedule?started={id}")).into_response())
        }
        Err(e) => {
            schedule_page(
                &state,
                &user,
                None,
                Some(format!("无法运行任务“{}”：{e}", form.job)),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}
