//! The routing gRPC API: a sheet, the approver's inbox, deciding a row.

use std::sync::Arc;

use chrono::Utc;
use onewindow_auth::{Authenticator, Principal, Role};
use onewindow_eventlog::{Commit, EventStore, Loaded, OrgId, StreamRef, encode, load};
use onewindow_proto::routing::v1::{
    self as pb, BulkApproveRequest, BulkApproveResponse, DecideRequest, DecideResponse, GetSheetRequest,
    GetSheetResponse, ListInboxRequest, ListInboxResponse, routing_service_server::RoutingService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{
    Approver, DecideCommand, Decision, Row, RowStatus, SHEET, Sheet, SheetError, SheetStatus, apply, decide,
    sheet_stream,
};

pub struct RoutingApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
}

impl From<SheetError> for Status {
    fn from(error: SheetError) -> Self {
        match error {
            SheetError::NotFound => Status::not_found(error.to_string()),
            SheetError::NoteRequired => FieldErrors::one("note", error.to_string()),
            SheetError::NotAnApprover => Status::permission_denied(error.to_string()),
            SheetError::Closed(_)
            | SheetError::StageNotReached { .. }
            | SheetError::AlreadyDecided
            | SheetError::NoLongerNeeded(_) => Status::failed_precondition(error.to_string()),
            SheetError::InvalidRoute(_) => FieldErrors::one("route", error.to_string()),
        }
    }
}

fn application_id(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw).map_err(|_| FieldErrors::one("application_id", "must be an application's UUID"))
}

impl RoutingApi {
    /// The caller's organisation's sheet: another organisation's sheets do not exist for the caller.
    async fn load(&self, org: &OrgId, application_id: Uuid) -> Result<Loaded<Sheet>, Status> {
        let loaded =
            load::<Sheet>(self.store.as_ref(), &sheet_stream(org, application_id)).await.map_err(store_status)?;
        if loaded.state.status == SheetStatus::NotOpened {
            return Err(SheetError::NotFound.into());
        }
        Ok(loaded)
    }
}

/// The applicant reads the sheet of their application, an approver a sheet they are on (a row of their
/// department), the service centre's staff, administrators and integrators any sheet of the organisation.
fn may_read(principal: &Principal, sheet: &Sheet) -> bool {
    let on_sheet = principal.has(Role::Approver)
        && !principal.department.is_empty()
        && sheet.rows.iter().any(|row| row.step.department == principal.department);
    sheet.application.applicant_id == principal.user_id
        || on_sheet
        || [Role::Executor, Role::Admin, Role::Integrator].into_iter().any(|role| principal.has(role))
}

#[tonic::async_trait]
impl RoutingService for RoutingApi {
    async fn get_sheet(&self, request: Request<GetSheetRequest>) -> Result<Response<GetSheetResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let application_id = application_id(&request.get_ref().application_id)?;
        let loaded = self.load(&principal.org, application_id).await?;
        if !may_read(&principal, &loaded.state) {
            return Err(Status::permission_denied("this sheet belongs to another applicant"));
        }
        Ok(Response::new(GetSheetResponse { sheet: Some(sheet_pb(&principal.org, &loaded.state, loaded.version)) }))
    }

    async fn list_inbox(&self, request: Request<ListInboxRequest>) -> Result<Response<ListInboxResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        principal.require(Role::Approver)?;
        // Folds every sheet of the organisation on each call. The routing issue replaces this scan with an inbox
        // projection (department → open rows) kept up to date from the log.
        let ids = self.store.list_streams(&principal.org, SHEET).await.map_err(store_status)?;
        let mut sheets = Vec::new();
        for id in ids {
            let stream = StreamRef::new(&principal.org, SHEET, id);
            let loaded = load::<Sheet>(self.store.as_ref(), &stream).await.map_err(store_status)?;
            if loaded.state.awaits(&principal.department) {
                sheets.push(sheet_pb(&principal.org, &loaded.state, loaded.version));
            }
        }
        Ok(Response::new(ListInboxResponse { sheets }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id))]
    async fn decide(&self, request: Request<DecideRequest>) -> Result<Response<DecideResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let id = Uuid::parse_str(&request.application_id);
        errors.check(id.is_ok(), "application_id", "must be an application's UUID");
        let decision = match pb::Decision::try_from(request.decision) {
            Ok(pb::Decision::Approve) => Some(Decision::Approve),
            Ok(pb::Decision::Reject) => Some(Decision::Reject),
            Ok(pb::Decision::Unspecified) | Err(_) => None,
        };
        errors.check(decision.is_some(), "decision", "must be DECISION_APPROVE or DECISION_REJECT");
        errors.into_result()?;
        let (Ok(application_id), Some(decision)) = (id, decision) else {
            return Err(Status::invalid_argument("application_id and decision are required"));
        };
        principal.require(Role::Approver)?;
        let (sheet, version) = match request.expected_version {
            // The caller decided on a version they saw: a sheet changed since is theirs to read again.
            Some(expected) => {
                self.decide_one(&principal, application_id, decision, &request.note, Some(expected)).await?
            }
            // Otherwise their row's decision does not depend on the other rows: a sheet another approver changed
            // meanwhile is read and decided again, so parallel approvers never see a conflict.
            None => self.decide_retrying(&principal, application_id, decision, &request.note).await?,
        };
        Ok(Response::new(DecideResponse { sheet: Some(sheet_pb(&principal.org, &sheet, version)) }))
    }

    #[tracing::instrument(skip_all, fields(sheets = request.get_ref().application_ids.len()))]
    async fn bulk_approve(
        &self,
        request: Request<BulkApproveRequest>,
    ) -> Result<Response<BulkApproveResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        principal.require(Role::Approver)?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let count = request.application_ids.len();
        errors.check((1..=BULK_MAX).contains(&count), "application_ids", "must name 1 to 500 applications");
        errors.into_result()?;
        let mut results = Vec::with_capacity(count);
        for raw in request.application_ids {
            let mut result = pb::BulkApproveResult { application_id: raw.clone(), ..Default::default() };
            match Uuid::parse_str(raw.trim()) {
                Err(_) => result.error = "not an application id (a UUID)".into(),
                Ok(id) => match self.decide_retrying(&principal, id, Decision::Approve, &request.note).await {
                    Ok((_, version)) => {
                        result.approved = true;
                        result.version = version;
                    }
                    Err(status) => result.error = status.message().to_owned(),
                },
            }
            results.push(result);
        }
        let approved_count = results.iter().filter(|r| r.approved).count() as i32;
        tracing::info!(department = %principal.department, approved_count, "bulk approval");
        Ok(Response::new(BulkApproveResponse { results, approved_count }))
    }
}

/// Applications one bulk approval may name.
const BULK_MAX: usize = 500;
/// A decision re-reads a sheet that other approvers changed meanwhile this many times: enough for every row of a
/// large parallel stage deciding at the same moment.
const DECIDE_ATTEMPTS: u64 = 24;

impl RoutingApi {
    /// Decides the caller's row, reading the sheet again when someone else's decision got in first: the caller
    /// asked for their row to be decided whatever the others did, and each attempt checks the rules afresh.
    async fn decide_retrying(
        &self,
        principal: &Principal,
        id: Uuid,
        decision: Decision,
        note: &str,
    ) -> Result<(Sheet, i64), Status> {
        let mut last = Status::aborted("the sheet kept changing");
        for attempt in 1..=DECIDE_ATTEMPTS {
            match self.decide_one(principal, id, decision, note, None).await {
                Err(status) if status.code() == tonic::Code::Aborted => {
                    last = status;
                    // A little jitter, so racing approvers do not collide again in lockstep.
                    let pause = rand::random::<u64>() % (attempt.min(8) + 1);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                outcome => return outcome,
            }
        }
        Err(last)
    }

    /// Decides the caller's row of one sheet and records it; the sheet and its version after.
    async fn decide_one(
        &self,
        principal: &Principal,
        application_id: Uuid,
        decision: Decision,
        note: &str,
        expected_version: Option<i64>,
    ) -> Result<(Sheet, i64), Status> {
        let loaded = self.load(&principal.org, application_id).await?;
        if let Some(expected) = expected_version.filter(|v| *v != loaded.version) {
            return Err(Status::aborted(format!(
                "the sheet is at version {}, not {expected}: read it again and retry",
                loaded.version
            )));
        }
        let command = DecideCommand {
            approver: Approver {
                user_id: principal.user_id,
                full_name: principal.full_name.clone(),
                position: principal.position.clone(),
                department: principal.department.clone(),
            },
            decision,
            note: note.to_owned(),
            now: Utc::now(),
        };
        let events = decide(&loaded.state, command)?;

        // Decisions continue the flow the submission started.
        let correlation = loaded.events.first().map(|e| e.metadata.correlation_id);
        let metadata = request_metadata(principal.actor(), correlation);
        let encoded =
            events.iter().map(|e| encode(e, 1, &metadata)).collect::<Result<Vec<_>, _>>().map_err(|error| {
                tracing::error!(%error, "a sheet event cannot be encoded");
                Status::internal("the decision cannot be recorded")
            })?;
        let stream = sheet_stream(&principal.org, application_id);
        self.store.commit(Commit::append(stream, loaded.version, encoded)).await.map_err(store_status)?;

        let mut sheet = loaded.state;
        for event in &events {
            apply(&mut sheet, event);
        }
        let version = loaded.version + events.len() as i64;
        tracing::info!(department = %principal.department, ?decision, status = %sheet.status, "row decided");
        Ok((sheet, version))
    }
}

fn sheet_pb(org: &OrgId, sheet: &Sheet, version: i64) -> pb::Sheet {
    let status = match sheet.status {
        SheetStatus::NotOpened => pb::SheetStatus::Unspecified,
        SheetStatus::Open => pb::SheetStatus::Open,
        SheetStatus::Approved => pb::SheetStatus::Approved,
        SheetStatus::Rejected => pb::SheetStatus::Rejected,
    };
    pb::Sheet {
        application_id: sheet.application.application_id.to_string(),
        organization_id: org.to_string(),
        application_number: sheet.application.number.clone(),
        service_code: sheet.application.service_code.clone(),
        applicant_name: sheet.application.applicant_name.clone(),
        status: status as i32,
        rows: sheet.rows.iter().map(row_pb).collect(),
        progress_percent: sheet.progress_percent(),
        version,
    }
}

fn row_pb(row: &Row) -> pb::SheetRow {
    let status = match row.status() {
        RowStatus::Pending => pb::RowStatus::Pending,
        RowStatus::Approved => pb::RowStatus::Approved,
        RowStatus::Rejected => pb::RowStatus::Rejected,
    };
    let decision = row.decision.as_ref();
    pb::SheetRow {
        stage: row.step.stage,
        department: row.step.department.clone(),
        position: row.step.position.clone(),
        status: status as i32,
        decided_by_id: decision.map(|d| d.by_id.to_string()).unwrap_or_default(),
        decided_by_name: decision.map(|d| d.by_name.clone()).unwrap_or_default(),
        decided_at: decision.map(|d| onewindow_proto::timestamp(d.at)),
        note: decision.map(|d| d.note.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use onewindow_bus::EventHandler;
    use onewindow_eventlog::{CommitOutcome, StoreError};
    use serde_json::{Value, json};
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;
    use crate::{
        applications::SubmittedApplications,
        fixtures::{Tokens, approver, org, person, submitted_by},
    };

    struct Routing {
        api: RoutingApi,
        tokens: Tokens,
        store: Arc<dyn EventStore>,
    }

    impl Routing {
        async fn new() -> Self {
            let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
            let tokens = Tokens::new();
            Self { api: RoutingApi { store: store.clone(), auth: tokens.auth.clone() }, tokens, store }
        }

        /// Submits an application of `applicant` with `route` and lets routing open its sheet.
        async fn open(&self, applicant: &Principal, route: Value) -> String {
            let event = submitted_by(applicant.user_id, route).await;
            SubmittedApplications::new(self.store.clone()).handle(&event).await.expect("the sheet opens");
            event.stream.stream_id
        }

        async fn get(&self, who: &Principal, application_id: &str) -> Result<pb::Sheet, Status> {
            let request = self.tokens.request(who, GetSheetRequest { application_id: application_id.into() });
            Ok(self.api.get_sheet(request).await?.into_inner().sheet.expect("a sheet"))
        }

        async fn decide(
            &self,
            who: &Principal,
            application_id: &str,
            decision: pb::Decision,
            note: &str,
            expected_version: Option<i64>,
        ) -> Result<pb::Sheet, Status> {
            let request = self.tokens.request(
                who,
                DecideRequest {
                    application_id: application_id.into(),
                    decision: decision as i32,
                    note: note.into(),
                    expected_version,
                },
            );
            Ok(self.api.decide(request).await?.into_inner().sheet.expect("a sheet"))
        }

        async fn inbox(&self, who: &Principal) -> Result<Vec<String>, Status> {
            let request = self.tokens.request(who, ListInboxRequest {});
            let sheets = self.api.list_inbox(request).await?.into_inner().sheets;
            Ok(sheets.into_iter().map(|s| s.application_id).collect())
        }
    }

    fn two_stages() -> Value {
        json!([
            { "stage": 1, "department": "library", "position": "Librarian" },
            { "stage": 1, "department": "dormitory", "position": "Head of dormitory" },
            { "stage": 2, "department": "dean", "position": "Dean" },
        ])
    }

    fn invalid_fields(status: &Status) -> Vec<String> {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let bad = status.get_details_bad_request().expect("field violations");
        bad.field_violations.into_iter().map(|v| v.field).collect()
    }

    #[tokio::test]
    async fn approvers_decide_stage_by_stage_through_the_api() {
        let routing = Routing::new().await;
        let applicant = person(&[Role::Applicant], "");
        let id = routing.open(&applicant, two_stages()).await;
        let (library, dormitory, dean) = (approver("library"), approver("dormitory"), approver("dean"));

        assert_eq!(routing.inbox(&library).await.expect("inbox"), std::slice::from_ref(&id));
        assert!(routing.inbox(&dean).await.expect("inbox").is_empty());

        let refused = routing.decide(&dean, &id, pb::Decision::Approve, "", None).await.expect_err("too early");
        assert_eq!(refused.code(), Code::FailedPrecondition);

        let sheet = routing.decide(&library, &id, pb::Decision::Approve, "", Some(1)).await.expect("approved");
        assert_eq!(sheet.version, 2);
        assert_eq!(sheet.progress_percent, 33);
        assert_eq!(sheet.rows[0].status, pb::RowStatus::Approved as i32);
        assert_eq!(sheet.rows[0].decided_by_name, library.full_name);
        assert!(sheet.rows[0].decided_at.is_some());

        let stale = routing.decide(&dormitory, &id, pb::Decision::Approve, "", Some(1)).await.expect_err("stale");
        assert_eq!(stale.code(), Code::Aborted);
        routing.decide(&dormitory, &id, pb::Decision::Approve, "", Some(2)).await.expect("approved");
        assert_eq!(routing.inbox(&dean).await.expect("inbox"), std::slice::from_ref(&id));

        let sheet = routing.decide(&dean, &id, pb::Decision::Approve, "", None).await.expect("approved");
        assert_eq!(sheet.status, pb::SheetStatus::Approved as i32);
        assert_eq!(sheet.progress_percent, 100);
        assert_eq!(sheet.version, 5, "three decisions and sheet.approved");

        let again = routing.decide(&dean, &id, pb::Decision::Approve, "", None).await.expect_err("closed");
        assert_eq!(again.code(), Code::FailedPrecondition);
        assert!(again.message().contains("approved"), "{}", again.message());

        let read = routing.get(&applicant, &id).await.expect("the applicant reads their sheet");
        assert_eq!(read, sheet);
        assert_eq!(read.organization_id, "kaznu");
        assert_eq!(read.application_number, "KZ-2026-000042");
    }

    #[tokio::test]
    async fn a_librarian_approves_many_sheets_at_once_and_learns_why_some_were_not() {
        let routing = Routing::new().await;
        let library = approver("library");
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(routing.open(&person(&[Role::Applicant], ""), two_stages()).await);
        }
        // One already approved by the library, one the library is not on.
        routing.decide(&library, &ids[2], pb::Decision::Approve, "", None).await.expect("approved");
        let elsewhere = routing
            .open(&person(&[Role::Applicant], ""), json!([{ "stage": 1, "department": "dean", "position": "Dean" }]))
            .await;
        let mut asked = ids.clone();
        asked.extend([elsewhere, "42".into()]);
        let request = BulkApproveRequest { application_ids: asked.clone(), note: "Books returned".into() };
        let answer = routing.api.bulk_approve(routing.tokens.request(&library, request)).await.expect("answered");
        let answer = answer.into_inner();
        assert_eq!(answer.approved_count, 2);
        let outcome: Vec<(bool, bool)> = answer.results.iter().map(|r| (r.approved, r.error.is_empty())).collect();
        assert_eq!(outcome, [(true, true), (true, true), (false, false), (false, false), (false, false)]);
        assert_eq!(answer.results.iter().map(|r| r.application_id.clone()).collect::<Vec<_>>(), asked);
        assert!(answer.results[2].error.contains("already decided"), "{}", answer.results[2].error);
        assert!(answer.results[3].error.contains("not an approver"), "{}", answer.results[3].error);
        for id in &ids[..2] {
            let sheet = routing.get(&library, id).await.expect("sheet");
            assert_eq!(sheet.rows[0].status, pb::RowStatus::Approved as i32);
            assert_eq!(sheet.rows[0].note, "Books returned");
        }

        let too_many = BulkApproveRequest { application_ids: vec![ids[0].clone(); 501], note: String::new() };
        let refused = routing.api.bulk_approve(routing.tokens.request(&library, too_many)).await;
        assert_eq!(invalid_fields(&refused.expect_err("too many")), ["application_ids"]);
        let applicant = person(&[Role::Applicant], "");
        let request = BulkApproveRequest { application_ids: ids.clone(), note: String::new() };
        let denied = routing.api.bulk_approve(routing.tokens.request(&applicant, request)).await;
        assert_eq!(denied.expect_err("not an approver").code(), Code::PermissionDenied);
    }

    /// Twelve departments of one parallel stage decide at the same moment, on a log several connections write to.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twelve_approvers_deciding_at_once_are_all_recorded_once() {
        let dir = std::env::temp_dir().join(format!("onewindow-routing-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        let store =
            onewindow_eventlog::open(&format!("sqlite:{}", dir.join("routing.db").display())).await.expect("log");
        let tokens = Tokens::new();
        let routing =
            Arc::new(Routing { api: RoutingApi { store: store.clone(), auth: tokens.auth.clone() }, tokens, store });
        let departments: Vec<String> = (1..=12).map(|i| format!("department-{i:02}")).collect();
        let route: Vec<Value> =
            departments.iter().map(|d| json!({ "stage": 1, "department": d, "position": "Head" })).collect();
        let id = routing.open(&person(&[Role::Applicant], ""), Value::Array(route)).await;

        let decisions = departments.iter().map(|department| {
            let routing = routing.clone();
            let (id, who) = (id.clone(), approver(department));
            tokio::spawn(async move { routing.decide(&who, &id, pb::Decision::Approve, "", None).await })
        });
        for outcome in futures::future::join_all(decisions).await {
            outcome.expect("no panic").expect("every decision is recorded");
        }

        let sheet = routing.get(&person(&[Role::Executor], ""), &id).await.expect("the sheet");
        assert_eq!(sheet.status, pb::SheetStatus::Approved as i32);
        assert_eq!(sheet.progress_percent, 100);
        assert!(sheet.rows.iter().all(|r| r.status == pb::RowStatus::Approved as i32));
        let stream = sheet_stream(&org(), Uuid::parse_str(&id).expect("a UUID"));
        let events = routing.store.read_stream(&stream).await.expect("the stream");
        let count = |kind: &str| events.iter().filter(|e| e.event_type == kind).count();
        assert_eq!((count("sheet.row_decided"), count("sheet.approved")), (12, 1), "none lost, none twice");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn decisions_are_checked() {
        let routing = Routing::new().await;
        let applicant = person(&[Role::Applicant], "");
        let id = routing.open(&applicant, two_stages()).await;
        let library = approver("library");

        let status = routing.decide(&library, &id, pb::Decision::Reject, " ", None).await.expect_err("no note");
        assert_eq!(invalid_fields(&status), ["note"]);
        let status = routing.decide(&library, "42", pb::Decision::Unspecified, "", None).await.expect_err("bad");
        assert_eq!(invalid_fields(&status), ["application_id", "decision"]);

        let outsider = routing.decide(&approver("accounting"), &id, pb::Decision::Approve, "", None).await;
        let outsider = outsider.expect_err("not on the sheet");
        assert_eq!(outsider.code(), Code::PermissionDenied);
        assert_eq!(outsider.message(), "you are not an approver on this sheet");

        let executor = person(&[Role::Executor], "library");
        let not_approver = routing.decide(&executor, &id, pb::Decision::Approve, "", None).await;
        assert_eq!(not_approver.expect_err("no approver role").code(), Code::PermissionDenied);
        let missing = routing.decide(&library, &Uuid::now_v7().to_string(), pb::Decision::Approve, "", None).await;
        assert_eq!(missing.expect_err("no such sheet").code(), Code::NotFound);

        let sheet =
            routing.decide(&library, &id, pb::Decision::Reject, "Return two books", None).await.expect("rejected");
        assert_eq!(sheet.status, pb::SheetStatus::Rejected as i32);
        assert_eq!(sheet.rows[0].note, "Return two books");
        let closed = routing.decide(&approver("dormitory"), &id, pb::Decision::Approve, "", None).await;
        let closed = closed.expect_err("the sheet is closed");
        assert_eq!(closed.code(), Code::FailedPrecondition);
        assert!(closed.message().contains("rejected"), "{}", closed.message());
    }

    #[tokio::test]
    async fn a_sheet_is_read_by_its_applicant_its_approvers_and_staff_of_its_organisation_only() {
        let routing = Routing::new().await;
        let applicant = person(&[Role::Applicant], "");
        let id = routing.open(&applicant, two_stages()).await;

        routing.get(&applicant, &id).await.expect("the applicant");
        routing.get(&person(&[Role::Executor], "service centre"), &id).await.expect("an executor");
        routing.get(&approver("dean"), &id).await.expect("an approver on the sheet, even before their stage");
        let off_sheet = routing.get(&approver("accounting"), &id).await.expect_err("an approver not on the sheet");
        assert_eq!(off_sheet.code(), Code::PermissionDenied);
        let other = routing.get(&person(&[Role::Applicant], ""), &id).await.expect_err("another applicant");
        assert_eq!(other.code(), Code::PermissionDenied);

        let mut elsewhere = person(&[Role::Admin], "");
        elsewhere.org = OrgId::parse("kaznmu").expect("an org");
        assert_eq!(routing.get(&elsewhere, &id).await.expect_err("another org").code(), Code::NotFound);
        let mut librarian_elsewhere = approver("library");
        librarian_elsewhere.org = elsewhere.org.clone();
        assert!(routing.inbox(&librarian_elsewhere).await.expect("inbox").is_empty());

        assert_eq!(
            invalid_fields(&routing.get(&applicant, "not-a-uuid").await.expect_err("bad id")),
            ["application_id"]
        );
        let inbox = routing.inbox(&applicant).await.expect_err("applicants have no inbox");
        assert_eq!(inbox.code(), Code::PermissionDenied);

        let unsigned = routing.api.get_sheet(Request::new(GetSheetRequest { application_id: id })).await;
        assert_eq!(unsigned.expect_err("no token").code(), Code::Unauthenticated);
    }

    #[tokio::test]
    async fn of_two_decisions_on_one_version_exactly_one_is_committed() {
        let routing = Routing::new().await;
        let id = routing.open(&person(&[Role::Applicant], ""), two_stages()).await;
        let stream = sheet_stream(&org(), Uuid::parse_str(&id).expect("a UUID"));
        let loaded = load::<Sheet>(routing.store.as_ref(), &stream).await.expect("the sheet");

        // Two parallel approvers decide on the same version of the sheet, as two Decide calls would.
        let commit_for = |who: &Principal| {
            let command = DecideCommand {
                approver: Approver {
                    user_id: who.user_id,
                    full_name: who.full_name.clone(),
                    position: who.position.clone(),
                    department: who.department.clone(),
                },
                decision: Decision::Approve,
                note: String::new(),
                now: Utc::now(),
            };
            let events = decide(&loaded.state, command).expect("each may decide on its own");
            let metadata = request_metadata(who.actor(), None);
            let events = events.iter().map(|e| encode(e, 1, &metadata).expect("encodes")).collect();
            Commit::append(stream.clone(), loaded.version, events)
        };
        let (first, second) = (commit_for(&approver("library")), commit_for(&approver("dormitory")));
        let (a, b) = tokio::join!(routing.store.commit(first), routing.store.commit(second));

        let outcomes = [a, b];
        let committed = outcomes.iter().filter(|o| matches!(o, Ok(CommitOutcome::Committed { .. }))).count();
        let lost = outcomes.iter().filter(|o| matches!(o, Err(StoreError::Concurrency { .. }))).count();
        assert_eq!((committed, lost), (1, 1), "{outcomes:?}");
        let after = load::<Sheet>(routing.store.as_ref(), &stream).await.expect("the sheet");
        assert_eq!(after.version, 2);
        assert_eq!(store_status(outcomes.into_iter().find_map(Result::err).expect("the loser")).code(), Code::Aborted);
    }
}
