//! Decisions on findings, as data. In: the words stored for a finding's
//! review state and its decisions, or submitted by a reviewer; out: review
//! states, actions, measures and dismissal reasons, with their words and
//! Chinese labels, a valid [`Decision`], and the [`DecisionError`]s shown to
//! users. Which decisions are valid and who may make them are the review
//! stage's rules (`review::decision`): the store records decisions, and
//! applies the rule it is handed, but does not judge them itself.

use serde::{Deserialize, Serialize};

/// Where a flagged finding stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Pending,
    Confirmed,
    Dismissed,
    NeedInfo,
}

impl ReviewState {
    pub const ALL: [ReviewState; 4] = [
        ReviewState::Pending,
        ReviewState::NeedInfo,
        ReviewState::Confirmed,
        ReviewState::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Confirmed => "confirmed",
            ReviewState::Dismissed => "dismissed",
            ReviewState::NeedInfo => "need_info",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ReviewState::Pending => "待审核",
            ReviewState::Confirmed => "已确认违规",
            ReviewState::Dismissed => "已排除",
            ReviewState::NeedInfo => "待补充信息",
        }
    }

    /// A final decision; changing it is a revision.
    pub fn is_decided(self) -> bool {
        matches!(self, ReviewState::Confirmed | ReviewState::Dismissed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Confirm,
    Dismiss,
    NeedInfo,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Dismiss => "dismiss",
            Action::NeedInfo => "need_info",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Confirm, Action::Dismiss, Action::NeedInfo]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Action::Confirm => "确认违规",
            Action::Dismiss => "排除",
            Action::NeedInfo => "需补充信息",
        }
    }

    pub fn resulting_state(self) -> ReviewState {
        match self {
            Action::Confirm => ReviewState::Confirmed,
            Action::Dismiss => ReviewState::Dismissed,
            Action::NeedInfo => ReviewState::NeedInfo,
        }
    }
}

/// The measure proposed with a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    TakeDown,
    Rectify,
}

impl Measure {
    pub const ALL: [Measure; 2] = [Measure::TakeDown, Measure::Rectify];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::TakeDown => "take_down",
            Measure::Rectify => "rectify",
        }
    }

    pub fn parse(s: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Measure::TakeDown => "通知平台下架（删除商品链接）",
            Measure::Rectify => "通知平台责令商家补正认证信息",
        }
    }
}

/// Why a finding is dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DismissReason {
    CertValid,
    NotInCatalog,
    Exempt,
    ListingGone,
    Duplicate,
    Other,
}

impl DismissReason {
    pub const ALL: [DismissReason; 6] = [
        DismissReason::CertValid,
        DismissReason::NotInCatalog,
        DismissReason::Exempt,
        DismissReason::ListingGone,
        DismissReason::Duplicate,
        DismissReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DismissReason::CertValid => "cert_valid",
            DismissReason::NotInCatalog => "not_in_catalog",
            DismissReason::Exempt => "exempt",
            DismissReason::ListingGone => "listing_gone",
            DismissReason::Duplicate => "duplicate",
            DismissReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<DismissReason> {
        DismissReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DismissReason::CertValid => "证书有效，系统误判",
            DismissReason::NotInCatalog => "不属于CCC目录产品",
            DismissReason::Exempt => "已办理免予CCC认证证明",
            DismissReason::ListingGone => "商品链接已下架",
            DismissReason::Duplicate => "重复链接",
            DismissReason::Other => "其他（须填写说明）",
        }
    }
}

/// A valid decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub action: Action,
    pub measure: Option<Measure>,
    pub reason: Option<DismissReason>,
    pub note: String,
}

pub const MAX_NOTE_CHARS: usize = 2000;

/// Why a decision is refused. The messages are shown to users as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("未知的处理方式：{0}")]
    UnknownAction(String),
    #[error("未知的处置措施：{0}")]
    UnknownMeasure(String),
    #[error("排除时须选择排除理由")]
    ReasonRequired,
    #[error("未知的排除理由：{0}")]
    UnknownReason(String),
    #[error("选择“其他”理由时须填写说明")]
    NoteRequiredForOther,
    #[error("要求补充信息时须写明需补充的内容")]
    NoteRequiredForInfo,
    #[error("修改已作出的决定时须填写修改理由")]
    NoteRequiredForRevision,
    #[error("说明不能超过 {MAX_NOTE_CHARS} 个字")]
    NoteTooLong,
    #[error("当前账号无权作出审核决定")]
    NotAllowed,
    #[error("该条已作出决定，只有审核负责人可以修改")]
    RevisionNeedsSupervisor,
    #[error("该条已被他人处理（当前状态：{0}），请刷新后再操作")]
    Conflict(&'static str),
    #[error("该商品当前不在审核范围内（判定为合规或不属于目录）")]
    NotFlagged,
}
