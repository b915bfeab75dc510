//! Who is deciding a row, and in whose name: their own post, or a delegation's mandate.

use uuid::Uuid;

use super::*;

/// A delegation the caller holds now: they may decide for `for_id` (a person), or for whoever holds
/// `position` in `department` (an administrator's delegation for a post, `for_id` absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mandate {
    pub for_id: Option<Uuid>,
    pub for_name: String,
    pub department: String,
    pub position: String,
}

/// The person deciding, as their token names them, with the delegations they hold now.
#[derive(Debug, Clone, Default)]
pub struct Approver {
    pub user_id: Uuid,
    pub full_name: String,
    pub position: String,
    pub department: String,
    pub mandates: Vec<Mandate>,
}

impl Approver {
    /// May this person decide `row`: `Some(None)` as themselves, `Some(Some(m))` as a substitute under `m`.
    pub(super) fn standing<'a>(&'a self, row: &Row) -> Option<Option<&'a Mandate>> {
        let step = &row.step;
        if step.approver_ids.is_empty() {
            if !self.department.is_empty() && step.department == self.department {
                return Some(None);
            }
        } else if step.approver_ids.contains(&self.user_id) {
            return Some(None);
        }
        self.mandates
            .iter()
            .find(|m| match m.for_id {
                Some(id) if !step.approver_ids.is_empty() => step.approver_ids.contains(&id),
                Some(_) => step.department == m.department,
                None => step.department == m.department && step.position == m.position,
            })
            .map(Some)
    }
}
