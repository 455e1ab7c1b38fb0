//! Review stage, on the web: passwords, for the users page and the own
//! account page alike. In: a password or a credential rule it broke; out:
//! the hash (computed off the async threads) or the rule in Chinese.

use super::error::AppError;
use crate::review::auth;
use axum::http::StatusCode;

/// A broken credential rule, for the user.
pub fn credential_zh(e: &auth::CredentialError) -> String {
    match e {
        auth::CredentialError::PasswordTooShort { min } => format!("密码至少需要 {min} 位"),
        auth::CredentialError::PasswordIsUsername => "密码不能与用户名相同".into(),
        auth::CredentialError::BadUsername(_) => {
            "用户名须为 2 到 32 个字母、数字、汉字或 . _ -".into()
        }
        auth::CredentialError::Hash(_) => "密码处理出错".into(),
    }
}

/// The password's hash, computed on a blocking thread (it is slow on purpose).
pub(crate) async fn hash_off_thread(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "密码处理出错"))?
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, credential_zh(&e)))
}
