use serde::{Deserialize, Serialize};
use std::fmt;

/// The outcome of checking one listing. The names are part of the interface
/// (exports, API, reports) and must not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compliant,
    NotInScope,
    Uncertified,
    CertNotFound,
    CertMismatch,
    Expired,
    Suspended,
    Revoked,
    Cancelled,
}

impl Verdict {
    pub const ALL: [Verdict; 9] = [
        Verdict::Compliant,
        Verdict::NotInScope,
        Verdict::Uncertified,
        Verdict::CertNotFound,
        Verdict::CertMismatch,
        Verdict::Expired,
        Verdict::Suspended,
        Verdict::Revoked,
        Verdict::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::NotInScope => "not_in_scope",
            Verdict::Uncertified => "uncertified",
            Verdict::CertNotFound => "cert_not_found",
            Verdict::CertMismatch => "cert_mismatch",
            Verdict::Expired => "expired",
            Verdict::Suspended => "suspended",
            Verdict::Revoked => "revoked",
            Verdict::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    /// Chinese label for reports and the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            Verdict::Compliant => "合规",
            Verdict::NotInScope => "不属于目录",
            Verdict::Uncertified => "未获认证",
            Verdict::CertNotFound => "证书编号不存在",
            Verdict::CertMismatch => "证书与商品不符",
            Verdict::Expired => "证书已过期",
            Verdict::Suspended => "证书已暂停",
            Verdict::Revoked => "证书已撤销",
            Verdict::Cancelled => "证书已注销",
        }
    }

    /// Flagged means a reviewer must look at it.
    pub fn is_flagged(self) -> bool {
        !matches!(self, Verdict::Compliant | Verdict::NotInScope)
    }

    /// Rank used when a listing cites several numbers: lower is better
    /// (compliant, then a status verdict, then mismatch, then not found).
    pub fn citation_rank(self) -> u8 {
        match self {
            Verdict::Compliant => 0,
            Verdict::Expired => 1,
            Verdict::Suspended => 2,
            Verdict::Cancelled => 3,
            Verdict::Revoked => 4,
            Verdict::CertMismatch => 5,
            Verdict::CertNotFound => 6,
            Verdict::Uncertified => 7,
            Verdict::NotInScope => 8,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The judgement of one listing, with everything a reviewer needs to check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub verdict: Verdict,
    /// In `[0, 1]`: how sure the matcher is of the verdict.
    pub confidence: f32,
    pub matched_cert: Option<String>,
    /// Certificate numbers the listing cites, normalised to digits.
    pub cert_numbers: Vec<String>,
    pub category_code: Option<String>,
    /// Brand and model as the matcher understood them.
    pub brand: Option<String>,
    pub model: Option<String>,
    /// Reasons in Chinese, one sentence each.
    pub reasons: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_flagging() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
        assert!(!Verdict::Compliant.is_flagged());
        assert!(!Verdict::NotInScope.is_flagged());
        assert!(Verdict::CertMismatch.is_flagged());
        assert!(Verdict::Compliant.citation_rank() < Verdict::Revoked.citation_rank());
        assert!(Verdict::Revoked.citation_rank() < Verdict::CertMismatch.citation_rank());
        assert!(Verdict::CertMismatch.citation_rank() < Verdict::CertNotFound.citation_rank());
    }
}
