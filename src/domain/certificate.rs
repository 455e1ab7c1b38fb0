use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Status of a CCC certificate as reported to CNCA (codes `01`–`05`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    Valid,
    Suspended,
    Revoked,
    Cancelled,
    Expired,
}

impl CertStatus {
    pub const ALL: [CertStatus; 5] = [
        CertStatus::Valid,
        CertStatus::Suspended,
        CertStatus::Revoked,
        CertStatus::Cancelled,
        CertStatus::Expired,
    ];

    /// Parses the export's status column: a word (`有效`, `暂停`, `撤销`, `注销`,
    /// `过期`, `过期失效`), optionally followed by a note in brackets, or a
    /// reporting code `01`–`05`. Returns the status and the note, if any.
    pub fn parse(raw: &str) -> Option<(CertStatus, Option<String>)> {
        let folded = crate::text::normalize::fold_width(raw);
        let text = folded.trim();
        let (head, note) = split_note(text);
        let head = head.trim();
        let status = match head {
            "01" | "1" | "有效" | "valid" | "Valid" | "VALID" => CertStatus::Valid,
            "02" | "2" | "暂停" | "suspended" | "Suspended" | "SUSPENDED" => {
                CertStatus::Suspended
            }
            "03" | "3" | "撤销" | "revoked" | "Revoked" | "REVOKED" => CertStatus::Revoked,
            "04" | "4" | "注销" | "cancelled" | "canceled" | "Cancelled" | "CANCELLED" => {
                CertStatus::Cancelled
            }
            "05" | "5" | "过期" | "过期失效" | "失效" | "expired" | "Expired" | "EXPIRED" => {
                CertStatus::Expired
            }
            _ => return None,
        };
        Some((status, note))
    }

    pub fn code(self) -> &'static str {
        match self {
            CertStatus::Valid => "01",
            CertStatus::Suspended => "02",
            CertStatus::Revoked => "03",
            CertStatus::Cancelled => "04",
            CertStatus::Expired => "05",
        }
    }

    /// Chinese label as users read it.
    pub fn label_zh(self) -> &'static str {
        match self {
            CertStatus::Valid => "有效",
            CertStatus::Suspended => "暂停",
            CertStatus::Revoked => "撤销",
            CertStatus::Cancelled => "注销",
            CertStatus::Expired => "过期失效",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CertStatus::Valid => "valid",
            CertStatus::Suspended => "suspended",
            CertStatus::Revoked => "revoked",
            CertStatus::Cancelled => "cancelled",
            CertStatus::Expired => "expired",
        }
    }

    pub fn from_db(s: &str) -> Option<CertStatus> {
        CertStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Splits `暂停（企业申请）` into `暂停` and `企业申请`.
fn split_note(text: &str) -> (&str, Option<String>) {
    match text.find(['(', '[', '【']) {
        Some(pos) => {
            let note = text[pos..]
                .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | '【' | '】'))
                .trim()
                .to_string();
            (&text[..pos], (!note.is_empty()).then_some(note))
        }
        None => (text, None),
    }
}

/// A certificate's model list (`规格型号`), parsed into individual models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ModelList {
    /// Models as written (ratings and bracketed notes removed).
    pub models: Vec<String>,
    /// False when the list refers to an attachment (`见附件`) or ends in `等`:
    /// then the models listed, if any, are only part of the real list.
    pub complete: bool,
}

impl ModelList {
    /// True when the list says nothing about which models are covered.
    pub fn is_unknown(&self) -> bool {
        !self.complete && self.models.is_empty()
    }
}

/// One row of the official certificate export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub cert_no: String,
    pub status: CertStatus,
    /// The status cell as written (keeps notes such as `暂停（企业申请）`).
    pub status_raw: String,
    pub category_code: Option<String>,
    pub product_name: String,
    pub models_raw: String,
    pub models: ModelList,
    pub applicant: String,
    pub manufacturer: String,
    pub factory: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub first_issued_on: Option<NaiveDate>,
    pub issuer: Option<String>,
    pub status_changed_on: Option<NaiveDate>,
    pub status_reason: Option<String>,
    pub trademark: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_codes_and_notes() {
        assert_eq!(CertStatus::parse("有效"), Some((CertStatus::Valid, None)));
        assert_eq!(CertStatus::parse(" 03 "), Some((CertStatus::Revoked, None)));
        assert_eq!(
            CertStatus::parse("暂停（获证企业申请）"),
            Some((CertStatus::Suspended, Some("获证企业申请".into())))
        );
        assert_eq!(
            CertStatus::parse("撤销(监督抽样不合格)"),
            Some((CertStatus::Revoked, Some("监督抽样不合格".into())))
        );
        assert_eq!(
            CertStatus::parse("过期失效"),
            Some((CertStatus::Expired, None))
        );
        assert_eq!(CertStatus::parse("过期"), Some((CertStatus::Expired, None)));
        assert_eq!(
            CertStatus::parse("注销"),
            Some((CertStatus::Cancelled, None))
        );
        assert_eq!(CertStatus::parse("作废"), None);
        assert_eq!(CertStatus::parse("06"), None);
    }

    #[test]
    fn db_names_round_trip() {
        for s in CertStatus::ALL {
            assert_eq!(CertStatus::from_db(s.as_str()), Some(s));
        }
    }
}

/// The fields of a certificate that matching needs, as the store yields them.
#[derive(Debug, Clone)]
pub struct CertRecord {
    pub cert_no: String,
    pub status: CertStatus,
    pub status_changed_on: Option<chrono::NaiveDate>,
    pub status_reason: Option<String>,
    pub issued_on: chrono::NaiveDate,
    pub expires_on: chrono::NaiveDate,
    pub category_code: Option<String>,
    pub product_name: String,
    pub applicant: String,
    pub manufacturer: String,
    pub models: Vec<String>,
    pub models_complete: bool,
}
