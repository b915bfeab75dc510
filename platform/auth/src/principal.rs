use onewindow_eventlog::OrgId;
use serde::{Deserialize, Serialize};
use tonic::Status;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Applicant,
    Approver,
    Executor,
    Admin,
    /// Signs final documents with a digital signature (a vice-rector, a dean, a chief accountant).
    Signatory,
    /// A service account of another system (accounting, document management) that consumes status events.
    Integrator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Approver => "approver",
            Role::Executor => "executor",
            Role::Admin => "admin",
            Role::Signatory => "signatory",
            Role::Integrator => "integrator",
        }
    }
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub org: OrgId,
    pub roles: Vec<Role>,
    pub full_name: String,
    pub department: String,
    pub position: String,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// `PERMISSION_DENIED` unless the caller holds `role`.
    pub fn require(&self, role: Role) -> Result<(), Status> {
        if self.has(role) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!("this call needs the {} role", role.as_str())))
        }
    }

    /// The actor recorded on events this caller causes.
    pub fn actor(&self) -> String {
        self.user_id.to_string()
    }
}
