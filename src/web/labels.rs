//! Review stage, on the web: states several pages name. In: a state as
//! stored; out: its Chinese label and the CSS class it is drawn with. Used
//! by the notice pages and the listing page alike, so it lives below both.

use crate::notice;

/// A notice state in Chinese, with its CSS class.
pub fn notice_state(state: &str) -> (&'static str, &'static str) {
    let class = match state {
        "overdue" | "relisted" => "st-bad",
        "removed_verified" => "st-good",
        _ => "st-open",
    };
    (notice::state_label(state), class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_state_has_a_label() {
        for s in [
            "issued",
            "acknowledged",
            "still_online",
            "overdue",
            "removed_verified",
            "relisted",
        ] {
            assert_ne!(notice_state(s).0, "未知", "{s}");
        }
    }
}
