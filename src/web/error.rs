//! Review stage, on the web: errors as pages or JSON. Messages are in
//! Chinese for the user; the underlying cause goes to the log, not to the
//! browser.

use crate::store::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// An error answered to a request: a status and a message for the user.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    /// Answer with JSON (API routes) rather than a page.
    pub json: bool,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError {
            status,
            message: message.into(),
            json: false,
        }
    }

    pub fn not_found() -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "页面或记录不存在")
    }

    pub fn forbidden() -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "当前账号无权进行此操作")
    }

    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn csrf() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "表单已失效（安全令牌不符），请返回上一页刷新后重试",
        )
    }

    pub fn json(mut self) -> AppError {
        self.json = true;
        self
    }
}

/// The answer to a path no route knows.
pub async fn not_found() -> AppError {
    AppError::not_found()
}

/// The HTTP status of a refused decision: not allowed 403, someone decided
/// first 409, anything missing or invalid 422.
pub fn decision_status(e: &crate::domain::decision::DecisionError) -> StatusCode {
    use crate::domain::decision::DecisionError::*;
    match e {
        NotAllowed | RevisionNeedsSupervisor => StatusCode::FORBIDDEN,
        Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        tracing::error!(error = %e, "database error while serving a request");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "数据库出错，请稍后重试；如持续出现请联系系统管理员",
        )
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        tracing::error!(error = %e, "rendering a page failed");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "页面生成出错")
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.json {
            let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
            return (self.status, Json(body)).into_response();
        }
        let page = super::views::ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
        };
        match askama::Template::render(&page) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}
