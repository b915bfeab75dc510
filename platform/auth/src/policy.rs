//! Who may call what: one table for every RPC of every service, enforced before any handler runs
//! (`onewindow_server`'s authorization layer).
//!
//! The table decides on the caller's roles. What depends on the data stays with the handlers, and each rule
//! names it (`scope`): an applicant sees only their own applications, an approver only the sheets they are on,
//! staff only their organisation (every read is already addressed with the caller's organisation). An RPC
//! missing from the table is refused: new calls are closed until someone decides who may make them.
//!
//! Integrator accounts (other university systems) hold the `integrator` role: no mutating call names it but the
//! registration of their own webhooks, and the reads that grant it (applications, sheets, documents of their
//! organisation) say so in their scope; the events they follow are the public NATS subjects or their webhooks
//! (docs/EVENTS.md, docs/asyncapi.yaml).

use tonic::Status;

use crate::{Principal, Role};

/// Who may make a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself, public verification, public keys).
    Public,
    /// Any signed-in user; the handler narrows it to what is theirs (`scope`).
    SignedIn,
    /// Holders of at least one of these roles.
    AnyOf(&'static [Role]),
}

/// One RPC's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The gRPC path, `/<package>.<Service>/<Method>`.
    pub method: &'static str,
    pub access: Access,
    /// What the handler further checks on the data, for the reader of the table.
    pub scope: &'static str,
}

const STAFF: &[Role] = &[Role::Executor, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];
const APPLICANT: &[Role] = &[Role::Applicant];
const APPROVER: &[Role] = &[Role::Approver];
const SIGNATORY: &[Role] = &[Role::Signatory];
const APPROVER_OR_SIGNATORY: &[Role] = &[Role::Approver, Role::Signatory];
const DELEGATORS: &[Role] = &[Role::Approver, Role::Signatory, Role::Admin];
const INTEGRATOR: &[Role] = &[Role::Integrator];

const fn rule(method: &'static str, access: Access, scope: &'static str) -> Rule {
    Rule { method, access, scope }
}

use Access::{AnyOf, Public, SignedIn};

/// Every RPC of every onewindow service.
pub const RULES: &[Rule] = &[
    // identity
    rule("/onewindow.identity.v1.IdentityService/SignIn", Public, "the credentials are the check; limited per network"),
    rule("/onewindow.identity.v1.IdentityService/RefreshToken", Public, "the refresh token is the credential"),
    rule("/onewindow.identity.v1.IdentityService/SignOut", Public, "the refresh token is the credential"),
    rule("/onewindow.identity.v1.IdentityService/ActivateAccount", Public, "the one-time code is the credential"),
    rule("/onewindow.identity.v1.IdentityService/GetMe", SignedIn, "the caller's own account"),
    rule("/onewindow.identity.v1.IdentityService/UpdateProfile", SignedIn, "the caller's own profile"),
    rule("/onewindow.identity.v1.IdentityService/ChangePassword", SignedIn, "the caller's own password"),
    rule("/onewindow.identity.v1.IdentityService/GetCard", SignedIn, "own card; admins and executors any"),
    rule("/onewindow.identity.v1.IdentityService/UpdateCard", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.identity.v1.IdentityService/ImportAccounts", AnyOf(ADMIN), "into the caller's organisation"),
    rule("/onewindow.identity.v1.IdentityService/UpdateAccount", AnyOf(ADMIN), "not the caller's own admin role"),
    rule("/onewindow.identity.v1.IdentityService/IssueAccessCode", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.identity.v1.IdentityService/ListSigningKeys", Public, "public keys"),
    rule(
        "/onewindow.identity.v1.IdentityService/ListPostHolders",
        Public,
        "names and posts of approvers and signatories only (routing resolves routes with no user's token)",
    ),
    // catalog
    rule("/onewindow.catalog.v1.CatalogService/ListSections", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/ListServices", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/GetService", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/SearchServices", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/ListDepartments", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/GetCalendar", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/ComputeDueDate", SignedIn, "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/DefineService", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/DefineDepartment", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/DefineSection", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.catalog.v1.CatalogService/DefineCalendar", AnyOf(ADMIN), "the caller's organisation"),
    // applications
    rule("/onewindow.applications.v1.ApplicationsService/CreateApplication", AnyOf(APPLICANT), "as the applicant"),
    rule("/onewindow.applications.v1.ApplicationsService/UpdateDraft", AnyOf(APPLICANT), "own drafts only"),
    rule("/onewindow.applications.v1.ApplicationsService/DeleteDraft", AnyOf(APPLICANT), "own drafts only"),
    rule("/onewindow.applications.v1.ApplicationsService/SubmitApplication", AnyOf(APPLICANT), "own drafts only"),
    rule("/onewindow.applications.v1.ApplicationsService/WithdrawApplication", AnyOf(APPLICANT), "own applications"),
    rule(
        "/onewindow.applications.v1.ApplicationsService/GetApplicationTiming",
        SignedIn,
        "as GetApplication: own; approvers on the route; staff and integrators any",
    ),
    rule("/onewindow.applications.v1.ApplicationsService/AcceptApplication", AnyOf(STAFF), "the caller's organisation"),
    rule("/onewindow.applications.v1.ApplicationsService/AssignExecutor", AnyOf(STAFF), "the caller's organisation"),
    rule("/onewindow.applications.v1.ApplicationsService/SetPlannedDate", AnyOf(STAFF), "the caller's organisation"),
    rule(
        "/onewindow.applications.v1.ApplicationsService/CompleteApplication",
        AnyOf(STAFF),
        "the caller's organisation",
    ),
    rule("/onewindow.applications.v1.ApplicationsService/IssueApplication", AnyOf(STAFF), "the caller's organisation"),
    rule("/onewindow.applications.v1.ApplicationsService/RefuseApplication", AnyOf(STAFF), "the caller's organisation"),
    rule(
        "/onewindow.applications.v1.ApplicationsService/PrintApplication",
        SignedIn,
        "as GetApplication, and the documents service's rules on downloads",
    ),
    rule(
        "/onewindow.applications.v1.ApplicationsService/AddComment",
        SignedIn,
        "the applicant of the application, or staff",
    ),
    rule(
        "/onewindow.applications.v1.ApplicationsService/GetApplication",
        SignedIn,
        "own applications; approvers those on their route; executors, admins and integrators any",
    ),
    rule("/onewindow.applications.v1.AttachmentsService/UploadAttachment", AnyOf(APPLICANT), "own drafts only"),
    rule("/onewindow.applications.v1.AttachmentsService/DeleteAttachment", AnyOf(APPLICANT), "own drafts only"),
    rule(
        "/onewindow.applications.v1.AttachmentsService/ListAttachments",
        SignedIn,
        "as GetApplication: own applications; approvers those on their route; executors, admins, integrators any",
    ),
    rule(
        "/onewindow.applications.v1.AttachmentsService/DownloadAttachment",
        SignedIn,
        "as GetApplication: own applications; approvers those on their route; executors, admins, integrators any",
    ),
    // applications: lists and watching (the application_list read model)
    rule(
        "/onewindow.applications.v1.ApplicationListsService/ListMyApplications",
        SignedIn,
        "the caller's own applications",
    ),
    rule(
        "/onewindow.applications.v1.ApplicationListsService/ListQueue",
        AnyOf(STAFF),
        "the caller's organisation; the caller's department unless an office is named",
    ),
    rule(
        "/onewindow.applications.v1.ApplicationListsService/WatchApplication",
        SignedIn,
        "as GetApplication: own; approvers those on their route; executors, admins and integrators any",
    ),
    rule(
        "/onewindow.applications.v1.ApplicationListsService/WatchMyApplications",
        SignedIn,
        "the caller's own applications",
    ),
    // routing
    rule(
        "/onewindow.routing.v1.RoutingService/GetSheet",
        SignedIn,
        "the sheet of an own application; approvers the sheets they are on; executors, admins, integrators any",
    ),
    rule(
        "/onewindow.routing.v1.RoutingService/ListInbox",
        AnyOf(APPROVER_OR_SIGNATORY),
        "rows the caller decides: their own, their department's open ones, those they substitute on",
    ),
    rule("/onewindow.routing.v1.RoutingService/Decide", AnyOf(APPROVER), "rows of the caller's department"),
    rule("/onewindow.routing.v1.RoutingService/BulkApprove", AnyOf(APPROVER), "rows of the caller's department"),
    rule("/onewindow.routing.v1.RoutingService/AnswerRejection", AnyOf(APPLICANT), "own applications' sheets only"),
    rule("/onewindow.routing.v1.RoutingService/Sign", AnyOf(SIGNATORY), "signatory rows that are the caller's"),
    rule(
        "/onewindow.routing.v1.RoutingService/DelegateApprovals",
        AnyOf(DELEGATORS),
        "approvers and signatories their own rows; admins a post of their organisation",
    ),
    // documents
    rule("/onewindow.documents.v1.DocumentsService/GetDocument", SignedIn, "own documents; staff any"),
    rule(
        "/onewindow.documents.v1.DocumentsService/DownloadDocument",
        SignedIn,
        "own documents; staff any and the paper form",
    ),
    rule("/onewindow.documents.v1.DocumentsService/VerifyDocument", Public, "rate-limited per network"),
    rule("/onewindow.documents.v1.DocumentsService/ListSigningKeys", Public, "public keys"),
    rule("/onewindow.documents.v1.DocumentsService/RotateSigningKey", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.documents.v1.DocumentsService/RevokeDocument", AnyOf(STAFF), "the caller's organisation"),
    rule("/onewindow.documents.v1.DocumentsService/ReissueDocument", AnyOf(STAFF), "the caller's organisation"),
    rule("/onewindow.documents.v1.DocumentsService/ListVerifications", SignedIn, "own documents; staff any"),
    rule("/onewindow.documents.v1.DocumentsService/ContinuePaperJournal", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.documents.v1.DocumentsService/VoidNextNumber", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.documents.v1.DocumentsService/ListJournalEntries", AnyOf(STAFF), "the caller's organisation"),
    // notifications
    rule("/onewindow.notifications.v1.NotificationsService/ListNotifications", SignedIn, "own inbox"),
    rule("/onewindow.notifications.v1.NotificationsService/MarkRead", SignedIn, "own inbox"),
    rule("/onewindow.notifications.v1.NotificationsService/WatchNotifications", SignedIn, "own inbox"),
    rule("/onewindow.notifications.v1.NotificationsService/GetPreferences", SignedIn, "own preferences"),
    rule("/onewindow.notifications.v1.NotificationsService/SetPreferences", SignedIn, "own preferences"),
    rule("/onewindow.notifications.v1.NotificationsService/ListDeadLetters", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.operations.v1.ParkedEventsService/ListParkedEvents", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.operations.v1.ParkedEventsService/RedriveParkedEvent", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.notifications.v1.NotificationsService/RetryDeadLetter", AnyOf(ADMIN), "the caller's organisation"),
    rule("/onewindow.notifications.v1.IntegrationsService/RegisterWebhook", AnyOf(INTEGRATOR), "own webhooks"),
    rule("/onewindow.notifications.v1.IntegrationsService/ListWebhooks", AnyOf(INTEGRATOR), "own webhooks"),
    rule("/onewindow.notifications.v1.IntegrationsService/ListWebhookDeliveries", AnyOf(INTEGRATOR), "own webhooks"),
    rule(
        "/onewindow.notifications.v1.IntegrationsService/WatchPublicEvents",
        AnyOf(INTEGRATOR),
        "the caller's organisation",
    ),
];

/// Paths that are not onewindow's API: the standard health and reflection services, open to all (probes,
/// `grpcurl`, `buf curl`).
const INFRASTRUCTURE: [&str; 3] =
    ["/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"];

/// What the table decides for a call to `path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// No token needed.
    Open,
    /// A valid token is needed, and then `access` decides.
    Token(Access),
    /// No rule: refused whoever calls.
    Closed,
}

pub fn gate(path: &str) -> Gate {
    if INFRASTRUCTURE.iter().any(|prefix| path.starts_with(prefix)) {
        return Gate::Open;
    }
    match RULES.iter().find(|rule| rule.method == path).map(|rule| rule.access) {
        Some(Access::Public) => Gate::Open,
        Some(access) => Gate::Token(access),
        None => Gate::Closed,
    }
}

/// PERMISSION_DENIED unless `principal` passes `access`.
pub fn admit(access: Access, principal: &Principal) -> Result<(), Status> {
    match access {
        Access::Public | Access::SignedIn => Ok(()),
        Access::AnyOf(roles) if roles.iter().any(|role| principal.has(*role)) => Ok(()),
        Access::AnyOf(roles) => {
            let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
            Err(Status::permission_denied(format!("this call needs one of the roles: {}", names.join(", "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    /// Every method of every onewindow service, from the compiled descriptors.
    fn declared_methods() -> BTreeSet<String> {
        let set = prost_types::FileDescriptorSet::decode(onewindow_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let mut methods = BTreeSet::new();
        for file in set.file {
            let package = file.package().to_owned();
            for service in &file.service {
                for method in &service.method {
                    methods.insert(format!("/{package}.{}/{}", service.name(), method.name()));
                }
            }
        }
        methods
    }

    #[test]
    fn every_rpc_has_exactly_one_rule_and_every_rule_an_rpc() {
        let declared = declared_methods();
        let ruled: Vec<&str> = RULES.iter().map(|rule| rule.method).collect();
        let unique: BTreeSet<String> = ruled.iter().map(|m| (*m).to_owned()).collect();
        assert_eq!(unique.len(), ruled.len(), "a method has two rules");
        let missing: Vec<_> = declared.difference(&unique).collect();
        assert!(missing.is_empty(), "RPCs without a rule (refused until one is added): {missing:?}");
        let stale: Vec<_> = unique.difference(&declared).collect();
        assert!(stale.is_empty(), "rules for RPCs that do not exist: {stale:?}");
    }

    #[test]
    fn unknown_paths_are_closed_and_probes_open() {
        assert_eq!(gate("/onewindow.documents.v1.DocumentsService/DropAll"), Gate::Closed);
        assert_eq!(gate("/grpc.health.v1.Health/Check"), Gate::Open);
        assert_eq!(gate("/onewindow.documents.v1.DocumentsService/VerifyDocument"), Gate::Open);
        assert_eq!(gate("/onewindow.routing.v1.RoutingService/Decide"), Gate::Token(AnyOf(APPROVER)));
    }
}
