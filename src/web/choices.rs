//! Review stage, on the web: the choices the decision forms offer (the
//! queue's bulk form and a listing's decision form). In: nothing; out: the
//! measures and dismissal reasons as `<select>` options, in Chinese.

use super::views::Opt;
use crate::domain::decision::{DismissReason, Measure};

/// The measures of a take-down, the usual one selected.
pub(crate) fn measure_opts() -> Vec<Opt> {
    Measure::ALL
        .into_iter()
        .map(|m| Opt::new(m.as_str(), m.label_zh(), Some("take_down")))
        .collect()
}

/// Why a finding may be dismissed.
pub(crate) fn reason_opts() -> Vec<Opt> {
    DismissReason::ALL
        .into_iter()
        .map(|r| Opt::new(r.as_str(), r.label_zh(), None))
        .collect()
}
