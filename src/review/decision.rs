//! Review stage: decisions on findings. What each decision needs (a
//! [`DecisionInput`] validated into a [`Decision`]) and who may change a
//! decision already made ([`check_allowed`]). The decisions themselves, as
//! data, are [`crate::domain::decision`].

use super::auth::Permission;
use crate::domain::Role;
use crate::domain::decision::{
    Action, Decision, DecisionError, DismissReason, MAX_NOTE_CHARS, Measure, ReviewState,
};
use serde::Deserialize;

/// A decision as submitted, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DecisionInput {
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

impl DecisionInput {
    pub fn validate(&self) -> Result<Decision, DecisionError> {
        let action = Action::parse(self.action.trim())
            .ok_or_else(|| DecisionError::UnknownAction(self.action.clone()))?;
        let note = self.note.as_deref().unwrap_or("").trim().to_string();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(DecisionError::NoteTooLong);
        }
        let blank = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut measure = None;
        let mut reason = None;
        match action {
            Action::Confirm => {
                measure = Some(match blank(&self.measure) {
                    None => Measure::TakeDown,
                    Some(m) => Measure::parse(&m).ok_or(DecisionError::UnknownMeasure(m))?,
                });
            }
            Action::Dismiss => {
                let r = blank(&self.reason).ok_or(DecisionError::ReasonRequired)?;
                let r = DismissReason::parse(&r).ok_or(DecisionError::UnknownReason(r))?;
                if r == DismissReason::Other && note.is_empty() {
                    return Err(DecisionError::NoteRequiredForOther);
                }
                reason = Some(r);
            }
            Action::NeedInfo => {
                if note.is_empty() {
                    return Err(DecisionError::NoteRequiredForInfo);
                }
            }
        }
        Ok(Decision {
            action,
            measure,
            reason,
            note,
        })
    }
}

/// Whether `role` may make `decision` on a finding in `state`. Deciding a
/// pending finding, or one waiting for information, needs `Decide`; changing
/// a confirmation or dismissal needs `Revise` and a note saying why.
///
/// `Ok(true)`: the decision revises one already made. Callers hand it to
/// [`Store::decide`](crate::store::Store::decide), which applies it inside
/// the decision's transaction to the state it read there.
pub fn check_allowed(
    role: Role,
    state: ReviewState,
    decision: &Decision,
) -> Result<bool, DecisionError> {
    if !role.can(Permission::Decide) {
        return Err(DecisionError::NotAllowed);
    }
    if !state.is_decided() {
        return Ok(false);
    }
    if !role.can(Permission::Revise) {
        return Err(DecisionError::RevisionNeedsSupervisor);
    }
    if decision.note.is_empty() {
        return Err(DecisionError::NoteRequiredForRevision);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(action: &str, reason: Option<&str>, note: &str) -> DecisionInput {
        DecisionInput {
            action: action.into(),
            measure: None,
            reason: reason.map(Into::into),
            note: Some(note.into()),
        }
    }

    #[test]
    fn validation_rules() {
        let d = input("confirm", None, "").validate().unwrap();
        assert_eq!(d.measure, Some(Measure::TakeDown));
        assert_eq!(
            input("dismiss", None, "").validate(),
            Err(DecisionError::ReasonRequired)
        );
        assert_eq!(
            input("dismiss", Some("other"), " ").validate(),
            Err(DecisionError::NoteRequiredForOther)
        );
        assert!(input("dismiss", Some("cert_valid"), "").validate().is_ok());
        assert_eq!(
            input("need_info", None, "").validate(),
            Err(DecisionError::NoteRequiredForInfo)
        );
        assert!(matches!(
            input("approve", None, "").validate(),
            Err(DecisionError::UnknownAction(_))
        ));
        assert_eq!(
            input("confirm", None, &"字".repeat(2001)).validate(),
            Err(DecisionError::NoteTooLong)
        );
    }

    #[test]
    fn who_may_decide_and_revise() {
        let d = input("dismiss", Some("duplicate"), "").validate().unwrap();
        let with_note = input("dismiss", Some("duplicate"), "复核后改判")
            .validate()
            .unwrap();
        assert_eq!(
            check_allowed(Role::Reviewer, ReviewState::Pending, &d),
            Ok(false)
        );
        assert_eq!(
            check_allowed(Role::Reviewer, ReviewState::NeedInfo, &d),
            Ok(false)
        );
        assert_eq!(
            check_allowed(Role::Viewer, ReviewState::Pending, &d),
            Err(DecisionError::NotAllowed)
        );
        assert_eq!(
            check_allowed(Role::Admin, ReviewState::Pending, &d),
            Err(DecisionError::NotAllowed)
        );
        assert_eq!(
            check_allowed(Role::Reviewer, ReviewState::Confirmed, &with_note),
            Err(DecisionError::RevisionNeedsSupervisor)
        );
        assert_eq!(
            check_allowed(Role::Supervisor, ReviewState::Confirmed, &d),
            Err(DecisionError::NoteRequiredForRevision)
        );
        assert_eq!(
            check_allowed(Role::Supervisor, ReviewState::Dismissed, &with_note),
            Ok(true)
        );
    }
}
