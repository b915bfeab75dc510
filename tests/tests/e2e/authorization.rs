//! Every RPC of every service, called as every role, with no token, an expired token and tokens signed by
//! another key: each answer is the one the access policy promises.
//!
//! The expectations below are written out by hand, independently of `onewindow_auth::policy::RULES`, so a rule
//! changed by mistake fails here. Each call sends an empty message (valid for any protobuf request): an allowed
//! caller gets past the gate (and then usually INVALID_ARGUMENT from the handler), a refused one gets
//! PERMISSION_DENIED, a caller without a valid token UNAUTHENTICATED.

use std::{collections::BTreeSet, time::Duration};

use onewindow_auth::{Role, SigningKeyPair, TokenIssuer};
use onewindow_eventlog::{EventStore, OrgId, StreamRef};
use onewindow_identity::{NewAccount, register_account};
use onewindow_proto::identity::v1::{SignInRequest, identity_service_client::IdentityServiceClient};
use prost::Message;
use tonic::{Code, transport::Channel};

use super::embedded::EmbeddedSystem;

/// Who may call each RPC, as the product promises it.
const EXPECTED: &[(&str, Who)] = &[
    ("identity.v1.IdentityService/SignIn", Who::Anyone),
    ("identity.v1.IdentityService/RefreshToken", Who::Anyone),
    ("identity.v1.IdentityService/SignOut", Who::Anyone),
    ("identity.v1.IdentityService/ActivateAccount", Who::Anyone),
    ("identity.v1.IdentityService/GetMe", Who::SignedIn),
    ("identity.v1.IdentityService/UpdateProfile", Who::SignedIn),
    ("identity.v1.IdentityService/ChangePassword", Who::SignedIn),
    ("identity.v1.IdentityService/GetCard", Who::SignedIn),
    ("identity.v1.IdentityService/UpdateCard", Who::Roles(&[Role::Admin])),
    ("identity.v1.IdentityService/ImportAccounts", Who::Roles(&[Role::Admin])),
    ("identity.v1.IdentityService/UpdateAccount", Who::Roles(&[Role::Admin])),
    ("identity.v1.IdentityService/IssueAccessCode", Who::Roles(&[Role::Admin])),
    ("identity.v1.IdentityService/ListSigningKeys", Who::Anyone),
    ("identity.v1.IdentityService/ListPostHolders", Who::Anyone),
    ("catalog.v1.CatalogService/ListSections", Who::SignedIn),
    ("catalog.v1.CatalogService/ListServices", Who::SignedIn),
    ("catalog.v1.CatalogService/GetService", Who::SignedIn),
    ("catalog.v1.CatalogService/SearchServices", Who::SignedIn),
    ("catalog.v1.CatalogService/ListDepartments", Who::SignedIn),
    ("catalog.v1.CatalogService/GetCalendar", Who::SignedIn),
    ("catalog.v1.CatalogService/ComputeDueDate", Who::SignedIn),
    ("catalog.v1.CatalogService/DefineService", Who::Roles(&[Role::Admin])),
    ("catalog.v1.CatalogService/DefineDepartment", Who::Roles(&[Role::Admin])),
    ("catalog.v1.CatalogService/DefineSection", Who::Roles(&[Role::Admin])),
    ("catalog.v1.CatalogService/DefineCalendar", Who::Roles(&[Role::Admin])),
    ("applications.v1.ApplicationsService/CreateApplication", Who::Roles(&[Role::Applicant])),
    ("applications.v1.ApplicationsService/UpdateDraft", Who::Roles(&[Role::Applicant])),
    ("applications.v1.ApplicationsService/DeleteDraft", Who::Roles(&[Role::Applicant])),
    ("applications.v1.ApplicationsService/SubmitApplication", Who::Roles(&[Role::Applicant])),
    ("applications.v1.ApplicationsService/WithdrawApplication", Who::Roles(&[Role::Applicant])),
    ("applications.v1.ApplicationsService/GetApplication", Who::SignedIn),
    ("applications.v1.ApplicationsService/GetApplicationTiming", Who::SignedIn),
    ("applications.v1.ApplicationsService/AcceptApplication", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationsService/AssignExecutor", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationsService/SetPlannedDate", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationsService/CompleteApplication", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationsService/IssueApplication", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationsService/RefuseApplication", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationsService/AddComment", Who::SignedIn),
    ("applications.v1.ApplicationsService/PrintApplication", Who::SignedIn),
    ("applications.v1.AttachmentsService/UploadAttachment", Who::Roles(&[Role::Applicant])),
    ("applications.v1.AttachmentsService/ListAttachments", Who::SignedIn),
    ("applications.v1.AttachmentsService/DownloadAttachment", Who::SignedIn),
    ("applications.v1.AttachmentsService/DeleteAttachment", Who::Roles(&[Role::Applicant])),
    ("applications.v1.ApplicationListsService/ListMyApplications", Who::SignedIn),
    ("applications.v1.ApplicationListsService/ListQueue", Who::Roles(&[Role::Executor, Role::Admin])),
    ("applications.v1.ApplicationListsService/WatchApplication", Who::SignedIn),
    ("applications.v1.ApplicationListsService/WatchMyApplications", Who::SignedIn),
    ("routing.v1.RoutingService/GetSheet", Who::SignedIn),
    ("routing.v1.RoutingService/ListInbox", Who::Roles(&[Role::Approver, Role::Signatory])),
    ("routing.v1.RoutingService/Decide", Who::Roles(&[Role::Approver])),
    ("routing.v1.RoutingService/BulkApprove", Who::Roles(&[Role::Approver])),
    ("routing.v1.RoutingService/AnswerRejection", Who::Roles(&[Role::Applicant])),
    ("routing.v1.RoutingService/Sign", Who::Roles(&[Role::Signatory])),
    ("routing.v1.RoutingService/DelegateApprovals", Who::Roles(&[Role::Approver, Role::Signatory, Role::Admin])),
    ("documents.v1.DocumentsService/GetDocument", Who::SignedIn),
    ("documents.v1.DocumentsService/DownloadDocument", Who::SignedIn),
    ("documents.v1.DocumentsService/VerifyDocument", Who::Anyone),
    ("documents.v1.DocumentsService/ListSigningKeys", Who::Anyone),
    ("documents.v1.DocumentsService/RotateSigningKey", Who::Roles(&[Role::Admin])),
    ("documents.v1.DocumentsService/RevokeDocument", Who::Roles(&[Role::Executor, Role::Admin])),
    ("documents.v1.DocumentsService/ReissueDocument", Who::Roles(&[Role::Executor, Role::Admin])),
    ("documents.v1.DocumentsService/ListVerifications", Who::SignedIn),
    ("documents.v1.DocumentsService/ContinuePaperJournal", Who::Roles(&[Role::Admin])),
    ("documents.v1.DocumentsService/VoidNextNumber", Who::Roles(&[Role::Admin])),
    ("documents.v1.DocumentsService/ListJournalEntries", Who::Roles(&[Role::Executor, Role::Admin])),
    ("notifications.v1.NotificationsService/ListNotifications", Who::SignedIn),
    ("notifications.v1.NotificationsService/MarkRead", Who::SignedIn),
    ("notifications.v1.NotificationsService/WatchNotifications", Who::SignedIn),
    ("notifications.v1.NotificationsService/GetPreferences", Who::SignedIn),
    ("notifications.v1.NotificationsService/SetPreferences", Who::SignedIn),
    ("notifications.v1.NotificationsService/ListDeadLetters", Who::Roles(&[Role::Admin])),
    ("notifications.v1.NotificationsService/RetryDeadLetter", Who::Roles(&[Role::Admin])),
    ("operations.v1.ParkedEventsService/ListParkedEvents", Who::Roles(&[Role::Admin])),
    ("operations.v1.ParkedEventsService/RedriveParkedEvent", Who::Roles(&[Role::Admin])),
    ("notifications.v1.IntegrationsService/RegisterWebhook", Who::Roles(&[Role::Integrator])),
    ("notifications.v1.IntegrationsService/ListWebhooks", Who::Roles(&[Role::Integrator])),
    ("notifications.v1.IntegrationsService/ListWebhookDeliveries", Who::Roles(&[Role::Integrator])),
    ("notifications.v1.IntegrationsService/WatchPublicEvents", Who::Roles(&[Role::Integrator])),
];

#[derive(Debug, Clone, Copy)]
enum Who {
    /// No token needed: the answer does not depend on who calls.
    Anyone,
    /// Any valid token.
    SignedIn,
    /// A valid token of one of these roles.
    Roles(&'static [Role]),
}

/// Every role a user can hold, each tried alone.
const ROLES: [Role; 6] =
    [Role::Applicant, Role::Approver, Role::Executor, Role::Admin, Role::Signatory, Role::Integrator];

/// One caller of the table.
#[derive(Debug, Clone)]
enum Caller {
    NoToken,
    Expired(String),
    /// Signed by a key identity never published.
    ForeignKey(String),
    /// Claims identity's key id but is signed by another key.
    ForgedKeyId(String),
    User(Role, String),
}

impl Caller {
    fn token(&self) -> Option<&str> {
        match self {
            Caller::NoToken => None,
            Caller::Expired(t) | Caller::ForeignKey(t) | Caller::ForgedKeyId(t) | Caller::User(_, t) => Some(t),
        }
    }
}

/// The methods of the onewindow services, with whether each streams its answer.
fn declared_methods() -> Vec<(String, bool)> {
    let set = prost_types::FileDescriptorSet::decode(onewindow_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
    let mut methods = Vec::new();
    for file in set.file {
        let package = file.package().to_owned();
        for service in &file.service {
            for method in &service.method {
                methods.push((format!("/{package}.{}/{}", service.name(), method.name()), method.server_streaming()));
            }
        }
    }
    methods
}

/// Calls `path` with an empty message; the status code of the answer (OK when it succeeded).
async fn call(channel: Channel, path: &str, streaming: bool, token: Option<&str>) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("the channel is ready");
    let mut request = tonic::Request::new(());
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    }
    let path = path.parse().expect("a method path");
    // `()` is protobuf's empty message: it encodes to nothing and decodes anything, skipping unknown fields.
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let answer = if streaming {
        grpc.server_streaming(request, path, codec).await.map(|_| ())
    } else {
        grpc.unary(request, path, codec).await.map(|_| ())
    };
    answer.err().map_or(Code::Ok, |status| status.code())
}

/// The token signing key identity keeps in its log.
async fn identity_key(identity: &dyn EventStore) -> SigningKeyPair {
    let system = OrgId::parse("system").expect("org");
    let events = identity.read_stream(&StreamRef::new(&system, "signing_keys", "tokens")).await.expect("keys");
    let payload = &events.last().expect("a signing key").payload;
    serde_json::from_value(payload.clone()).expect("a key pair")
}

async fn sign_in(channel: Channel, login: &str, password: &str) -> String {
    let mut identity = IdentityServiceClient::new(channel);
    let request = SignInRequest { organization_id: "kaznu".into(), login: login.into(), password: password.into() };
    identity.sign_in(request).await.expect("signed in").into_inner().access_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_answers_every_caller_as_the_policy_says() {
    let system = EmbeddedSystem::start().await;
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let identity = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("identity.db").display()))
        .await
        .expect("identity's log");

    // One account per role, holding that role alone.
    let mut callers = vec![Caller::NoToken];
    for role in ROLES {
        let login = format!("only-{}", role.as_str());
        let password = format!("{}-{}", uuid::Uuid::now_v7(), "Pw1");
        let account = NewAccount {
            org: OrgId::parse("kaznu").expect("org"),
            login: login.clone(),
            password: password.clone(),
            full_name: format!("Only {}", role.as_str()),
            roles: vec![role],
            department: "library".into(),
            position: "head".into(),
            email: format!("{login}@example.kz"),
        };
        register_account(identity.as_ref(), account).await.expect("registered");
        callers.push(Caller::User(role, sign_in(channel.clone(), &login, &password).await));
    }

    // Tokens that must not pass: expired, signed by a stranger, and a forgery under identity's key id.
    let key = identity_key(identity.as_ref()).await;
    let principal = onewindow_auth::Principal {
        user_id: uuid::Uuid::now_v7(),
        org: OrgId::parse("kaznu").expect("org"),
        roles: ROLES.to_vec(),
        full_name: "Mallory".into(),
        department: String::new(),
        position: String::new(),
    };
    let now = chrono::Utc::now();
    let expired = TokenIssuer::new(&key, chrono::Duration::minutes(15)).expect("issuer");
    callers.push(Caller::Expired(expired.issue(&principal, now - chrono::Duration::hours(1)).expect("token").0));
    let stranger = SigningKeyPair::generate("stranger").expect("key");
    let foreign = TokenIssuer::new(&stranger, chrono::Duration::minutes(15)).expect("issuer");
    callers.push(Caller::ForeignKey(foreign.issue(&principal, now).expect("token").0));
    let impostor = SigningKeyPair::generate(key.key_id.clone()).expect("key");
    let forged = TokenIssuer::new(&impostor, chrono::Duration::minutes(15)).expect("issuer");
    callers.push(Caller::ForgedKeyId(forged.issue(&principal, now).expect("token").0));

    let declared = declared_methods();
    let expected: BTreeSet<String> = EXPECTED.iter().map(|(m, _)| format!("/onewindow.{m}")).collect();
    let actual: BTreeSet<String> = declared.iter().map(|(m, _)| m.clone()).collect();
    assert_eq!(expected, actual, "every RPC has an expectation here, and every expectation an RPC");

    let mut wrong = Vec::new();
    for (suffix, who) in EXPECTED {
        let path = format!("/onewindow.{suffix}");
        let streaming = declared.iter().any(|(m, s)| *m == path && *s);
        let mut public_answers = BTreeSet::new();
        for caller in &callers {
            let code =
                tokio::time::timeout(Duration::from_secs(20), call(channel.clone(), &path, streaming, caller.token()))
                    .await
                    .unwrap_or_else(|_| panic!("{path} did not answer {caller:?}"));
            let fine = match (who, caller) {
                (Who::Anyone, _) => {
                    public_answers.insert(code as i32);
                    code != Code::PermissionDenied
                }
                (_, Caller::NoToken | Caller::Expired(_) | Caller::ForeignKey(_) | Caller::ForgedKeyId(_)) => {
                    code == Code::Unauthenticated
                }
                (Who::SignedIn, Caller::User(..)) => !matches!(code, Code::Unauthenticated | Code::PermissionDenied),
                (Who::Roles(roles), Caller::User(role, _)) if roles.contains(role) => {
                    !matches!(code, Code::Unauthenticated | Code::PermissionDenied)
                }
                (Who::Roles(_), Caller::User(..)) => code == Code::PermissionDenied,
            };
            if !fine {
                let caller = match caller {
                    Caller::User(role, _) => role.as_str().to_owned(),
                    other => format!("{other:?}").split('(').next().unwrap_or_default().to_owned(),
                };
                wrong.push(format!("{path} as {caller}: {code:?} (expected {who:?})"));
            }
        }
        if matches!(who, Who::Anyone) && public_answers.len() != 1 {
            wrong.push(format!("{path} is public but answers differently by caller: {public_answers:?}"));
        }
    }
    assert!(wrong.is_empty(), "answers that break the policy:\n{}", wrong.join("\n"));
}
