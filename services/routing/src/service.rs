//! The routing gRPC API: a sheet, the approver's inbox, deciding and signing a row, answering a rejection,
//! delegating.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use onewindow_auth::{Authenticator, Principal, Role};
use onewindow_calendar::WorkingCalendar;
use onewindow_commands::{Command, run_checked_command};
use onewindow_eventlog::{Commit, EventStore, Loaded, OrgId, StreamRef, encode, load, load_all};
use onewindow_proto::routing::v1::{
    self as pb, AnswerRejectionRequest, AnswerRejectionResponse, BulkApproveRequest, BulkApproveResponse,
    DecideRequest, DecideResponse, DelegateApprovalsRequest, DelegateApprovalsResponse, GetSheetRequest,
    GetSheetResponse, ListInboxRequest, ListInboxResponse, SignRequest, SignResponse,
    routing_service_server::RoutingService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use serde::Serialize;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    Clock,
    consumers::catalog_copy::calendar_of,
    delegation::{
        DELEGATION, Delegate, DelegationEntry, DelegationError, DelegationEvent, Delegator, decide_delegation,
    },
    sheet::{
        AnswerCommand, Approver, DecideCommand, Decision, MessageKind, Row, RowStatus, SHEET, Sheet, SheetError,
        SheetEvent, SheetStatus, SignCommand, apply, decide, decide_answer, decide_sign, sheet_stream,
    },
};

pub struct RoutingApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl From<SheetError> for Status {
    fn from(error: SheetError) -> Self {
        match error {
            SheetError::NotFound => Status::not_found(error.to_string()),
            SheetError::NoteRequired => FieldErrors::one("note", error.to_string()),
            SheetError::CommentRequired => FieldErrors::one("comment", error.to_string()),
            SheetError::NotAnApprover | SheetError::NotTheApplicant => Status::permission_denied(error.to_string()),
            SheetError::Closed(_)
            | SheetError::StageNotReached { .. }
            | SheetError::AlreadyDecided
            | SheetError::AwaitingAnswer
            | SheetError::NothingToAnswer(_)
            | SheetError::NoLongerNeeded(_)
            | SheetError::SignatoryRow
            | SheetError::NothingToSign => Status::failed_precondition(error.to_string()),
            SheetError::InvalidRoute(_) => FieldErrors::one("route", error.to_string()),
        }
    }
}

impl From<DelegationError> for Status {
    fn from(error: DelegationError) -> Self {
        let DelegationError::Invalid { field, problem } = error;
        FieldErrors::one(field, problem)
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

    /// The caller as a decider: their token's post, and the delegations they hold at `now`.
    async fn approver(&self, principal: &Principal, now: DateTime<Utc>) -> Result<Approver, Status> {
        let delegations =
            load_all::<DelegationEntry>(self.store.as_ref(), &principal.org, DELEGATION).await.map_err(store_status)?;
        let mandates = delegations
            .iter()
            .filter_map(|(_, loaded)| loaded.state.0.as_ref())
            .filter(|d| d.empowers(principal.user_id, now))
            .map(|d| d.mandate())
            .collect();
        Ok(Approver {
            user_id: principal.user_id,
            full_name: principal.full_name.clone(),
            position: principal.position.clone(),
            department: principal.department.clone(),
            mandates,
        })
    }

    /// One command on a sheet through the runner: a sheet not opened does not exist for the caller; the events
    /// continue the flow the submission started; a lost race is decided again on the new sheet (with the client's
    /// `expected_version`, ABORTED instead). The sheet and its version after, and what was decided.
    async fn on_sheet(
        &self,
        principal: &Principal,
        application_id: Uuid,
        expected_version: Option<i64>,
        decide: impl Fn(&Sheet) -> Result<Vec<SheetEvent>, SheetError> + Send + Sync,
    ) -> Result<(Sheet, i64, Vec<SheetEvent>), Status> {
        let stream = sheet_stream(&principal.org, application_id);
        let command = Command::new(stream, request_metadata(principal.actor(), None))
            .expecting(expected_version)
            .continuing_flow();
        let exists = |loaded: &Loaded<Sheet>| {
            if loaded.state.status == SheetStatus::NotOpened { Err(SheetError::NotFound) } else { Ok(()) }
        };
        let ran = run_checked_command(self.store.as_ref(), &command, exists, |loaded| decide(&loaded.state)).await?;
        let (version, wrote) = (ran.version(), ran.wrote());
        let mut sheet = ran.decided_on.state;
        if wrote {
            for event in &ran.events {
                apply(&mut sheet, event);
            }
        }
        Ok((sheet, version, ran.events))
    }

    async fn calendar(&self, org: &OrgId) -> Result<WorkingCalendar, Status> {
        calendar_of(self.store.as_ref(), org).await.map_err(store_status)
    }
}

fn encode_all<E: Serialize + onewindow_eventlog::EventSchema>(
    events: &[E],
    metadata: &onewindow_eventlog::EventMetadata,
) -> Result<Vec<onewindow_eventlog::NewEvent>, Status> {
    events.iter().map(|e| encode(e, metadata)).collect::<Result<Vec<_>, _>>().map_err(|error| {
        tracing::error!(%error, "a routing event cannot be encoded");
        Status::internal("the change cannot be recorded")
    })
}

/// The applicant reads the sheet of their application, an approver a sheet they are on (a row of their
/// department, their own or one they substitute on), the service centre's staff, administrators and integrators
/// any sheet of the organisation.
fn may_read(principal: &Principal, approver: &Approver, sheet: &Sheet) -> bool {
    let decides = principal.has(Role::Approver) || principal.has(Role::Signatory);
    let on_sheet = decides
        && ((!principal.department.is_empty()
            && sheet.rows.iter().any(|row| row.step.department == principal.department))
            || sheet.names(approver));
    sheet.application.applicant_id == principal.user_id
        || on_sheet
        || [Role::Executor, Role::Admin, Role::Integrator].into_iter().any(|role| principal.has(role))
}

/// Sheets one inbox page holds by default, and at most.
const PAGE_DEFAULT: usize = 50;
const PAGE_MAX: usize = 500;

#[tonic::async_trait]
impl RoutingService for RoutingApi {
    async fn get_sheet(&self, request: Request<GetSheetRequest>) -> Result<Response<GetSheetResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let application_id = application_id(&request.get_ref().application_id)?;
        let loaded = self.load(&principal.org, application_id).await?;
        let approver = self.approver(&principal, self.clock.now()).await?;
        if !may_read(&principal, &approver, &loaded.state) {
            return Err(Status::permission_denied("this sheet belongs to another applicant"));
        }
        let calendar = self.calendar(&principal.org).await?;
        Ok(Response::new(GetSheetResponse {
            sheet: Some(sheet_pb(&principal.org, &loaded.state, loaded.version, &calendar)),
        }))
    }

    async fn list_inbox(&self, request: Request<ListInboxRequest>) -> Result<Response<ListInboxResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        if !(principal.has(Role::Approver) || principal.has(Role::Signatory)) {
            return Err(Status::permission_denied("the inbox is for approvers and signatories"));
        }
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        errors.check(request.min_age_hours >= 0, "min_age_hours", "must not be negative");
        errors.check((0..=PAGE_MAX as i32).contains(&request.page_size), "page_size", "must be 0 to 500");
        let offset = if request.page_token.is_empty() { Some(0) } else { request.page_token.parse::<usize>().ok() };
        errors.check(offset.is_some(), "page_token", "must be a next_page_token this call returned");
        errors.into_result()?;
        let offset = offset.unwrap_or(0);
        let page_size = if request.page_size == 0 { PAGE_DEFAULT } else { request.page_size as usize };
        let now = self.clock.now();
        let approver = self.approver(&principal, now).await?;
        let calendar = self.calendar(&principal.org).await?;
        // One read of every sheet of the organisation; an inbox projection replaces it when sheets grow many.
        let all = load_all::<Sheet>(self.store.as_ref(), &principal.org, SHEET).await.map_err(store_status)?;
        let mut waiting: Vec<(DateTime<Utc>, pb::Sheet)> = all
            .iter()
            .filter(|(_, loaded)| !loaded.state.rows_awaiting(&approver).is_empty())
            .filter(|(_, loaded)| {
                request.service_code.is_empty() || loaded.state.application.service_code == request.service_code
            })
            .filter_map(|(_, loaded)| {
                let sheet = &loaded.state;
                let since = sheet.current_stage().and_then(|s| sheet.stage_started_at(s)).or(sheet.opened_at)?;
                let old_enough = now - since >= chrono::Duration::hours(i64::from(request.min_age_hours));
                let overdue = sheet.deadline(&calendar).is_some_and(|(_, at)| at <= now);
                (old_enough && (overdue || !request.overdue_only))
                    .then(|| (since, sheet_pb(&principal.org, sheet, loaded.version, &calendar)))
            })
            .collect();
        // Oldest waiting first; the id keeps the order stable between pages.
        waiting.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.application_id.cmp(&b.1.application_id)));
        let total = waiting.len();
        let sheets: Vec<pb::Sheet> = waiting.into_iter().skip(offset).take(page_size).map(|(_, s)| s).collect();
        let next = offset + sheets.len();
        let next_page_token = if next < total { next.to_string() } else { String::new() };
        Ok(Response::new(ListInboxResponse { sheets, next_page_token }))
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
        // With the version they saw, a sheet changed since is theirs to read again. Otherwise their row's decision
        // does not depend on the other rows: a sheet another approver changed meanwhile is decided again, so
        // parallel approvers never see a conflict.
        let (sheet, version) =
            self.decide_one(&principal, application_id, decision, &request.note, request.expected_version).await?;
        let calendar = self.calendar(&principal.org).await?;
        Ok(Response::new(DecideResponse { sheet: Some(sheet_pb(&principal.org, &sheet, version, &calendar)) }))
    }

    #[tracing::instrument(skip_all, fields(sheets = request.get_ref().application_ids.len()))]
    async fn bulk_approve(
        &self,
        request: Request<BulkApproveRequest>,
    ) -> Result<Response<BulkApproveResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
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
                Ok(id) => match self.decide_one(&principal, id, Decision::Approve, &request.note, None).await {
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

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id))]
    async fn answer_rejection(
        &self,
        request: Request<AnswerRejectionRequest>,
    ) -> Result<Response<AnswerRejectionResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let id = Uuid::parse_str(&request.application_id);
        errors.check(id.is_ok(), "application_id", "must be an application's UUID");
        errors.check(request.row >= 0, "row", "must be a row's index");
        errors.check(!request.comment.trim().is_empty(), "comment", "an answer needs a comment");
        errors.into_result()?;
        let Ok(application_id) = id else { return Err(FieldErrors::one("application_id", "must be a UUID")) };
        let command = AnswerCommand {
            applicant_id: principal.user_id,
            row: request.row as u32,
            comment: request.comment,
            now: self.clock.now(),
        };
        let (sheet, version, _) =
            self.on_sheet(&principal, application_id, None, |sheet| decide_answer(sheet, command.clone())).await?;
        tracing::info!(row = request.row, "rejection answered");
        let calendar = self.calendar(&principal.org).await?;
        Ok(Response::new(AnswerRejectionResponse { sheet: Some(sheet_pb(&principal.org, &sheet, version, &calendar)) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id))]
    async fn sign(&self, request: Request<SignRequest>) -> Result<Response<SignResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let application_id = application_id(&request.get_ref().application_id)?;
        let now = self.clock.now();
        let signatory = self.approver(&principal, now).await?;
        let command = SignCommand { signatory, now };
        let (sheet, version, events) =
            self.on_sheet(&principal, application_id, None, |sheet| decide_sign(sheet, command.clone())).await?;
        let signature = events.iter().find_map(|e| if let SheetEvent::Signed(s) = e { Some(s.clone()) } else { None });
        tracing::info!(status = %sheet.status, "sheet signed");
        let calendar = self.calendar(&principal.org).await?;
        Ok(Response::new(SignResponse {
            sheet: Some(sheet_pb(&principal.org, &sheet, version, &calendar)),
            signature: signature.as_ref().map(signature_pb),
        }))
    }

    async fn delegate_approvals(
        &self,
        request: Request<DelegateApprovalsRequest>,
    ) -> Result<Response<DelegateApprovalsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let substitute = Uuid::parse_str(request.substitute_id.trim());
        errors.check(substitute.is_ok(), "substitute_id", "must be a user id (a UUID)");
        errors.check(request.starts_at.is_some(), "starts_at", "is required");
        errors.check(request.ends_at.is_some(), "ends_at", "is required");
        let for_post = !request.department.trim().is_empty() || !request.position.trim().is_empty();
        errors.check(!for_post || principal.has(Role::Admin), "department", "only administrators delegate a post");
        errors.into_result()?;
        let time = |t: Option<prost_types::Timestamp>| {
            t.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, t.nanos.clamp(0, 999_999_999) as u32))
        };
        let (Ok(substitute_id), Some(starts_at), Some(ends_at)) =
            (substitute, time(request.starts_at), time(request.ends_at))
        else {
            return Err(FieldErrors::one("starts_at", "must be a valid time"));
        };
        let delegator = if for_post {
            Delegator::Post { department: request.department, position: request.position }
        } else {
            if !(principal.has(Role::Approver) || principal.has(Role::Signatory)) {
                return Err(Status::permission_denied("only approvers and signatories delegate their own rows"));
            }
            Delegator::Person {
                user_id: principal.user_id,
                full_name: principal.full_name.clone(),
                department: principal.department.clone(),
            }
        };
        let command = Delegate {
            delegator,
            granted_by_id: principal.user_id,
            substitute_id,
            substitute_name: request.substitute_name,
            starts_at,
            ends_at,
            now: self.clock.now(),
        };
        let event = decide_delegation(command)?;
        let DelegationEvent::Granted(granted) = &event;
        let delegation_id = granted.delegation_id;
        let metadata = request_metadata(principal.actor(), None);
        let stream = StreamRef::new(&principal.org, DELEGATION, delegation_id.to_string());
        let encoded = encode_all(std::slice::from_ref(&event), &metadata)?;
        self.store.commit(Commit::append(stream, 0, encoded)).await.map_err(store_status)?;
        tracing::info!(%delegation_id, "approvals delegated");
        Ok(Response::new(DelegateApprovalsResponse { delegation_id: delegation_id.to_string() }))
    }
}

/// Applications one bulk approval may name.
const BULK_MAX: usize = 500;
impl RoutingApi {
    /// Decides the caller's row of one sheet and records it, reading the sheet again when someone else's decision
    /// got in first (unless the caller named the version they saw): each attempt checks the rules afresh. The sheet
    /// and its version after.
    async fn decide_one(
        &self,
        principal: &Principal,
        application_id: Uuid,
        decision: Decision,
        note: &str,
        expected_version: Option<i64>,
    ) -> Result<(Sheet, i64), Status> {
        let now = self.clock.now();
        let command =
            DecideCommand { approver: self.approver(principal, now).await?, decision, note: note.to_owned(), now };
        let (sheet, version, _) =
            self.on_sheet(principal, application_id, expected_version, |sheet| decide(sheet, command.clone())).await?;
        tracing::info!(department = %principal.department, ?decision, status = %sheet.status, "row decided");
        Ok((sheet, version))
    }
}

fn signature_pb(s: &crate::sheet::Signature) -> pb::Signature {
    pb::Signature {
        signed_by_id: s.signed_by_id.to_string(),
        signed_by_name: s.signed_by_name.clone(),
        position: s.position.clone(),
        signed_at: Some(onewindow_proto::timestamp(s.signed_at)),
        sha256: s.sha256.clone(),
    }
}

fn sheet_pb(org: &OrgId, sheet: &Sheet, version: i64, calendar: &WorkingCalendar) -> pb::Sheet {
    let status = match sheet.status {
        SheetStatus::NotOpened => pb::SheetStatus::Unspecified,
        SheetStatus::Open => pb::SheetStatus::Open,
        SheetStatus::Approved => pb::SheetStatus::Approved,
        SheetStatus::Rejected => pb::SheetStatus::Rejected,
        SheetStatus::Closed => pb::SheetStatus::Closed,
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
        current_stage: sheet.current_stage().unwrap_or(0),
        deadline_at: sheet.deadline(calendar).map(|(_, at)| onewindow_proto::timestamp(at)),
        opened_at: sheet.opened_at.map(onewindow_proto::timestamp),
        signatures: sheet.signatures.iter().map(signature_pb).collect(),
        closed_reason: sheet.closed_reason.clone(),
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
        decided_by_id: decision.filter(|d| !d.deemed).map(|d| d.by_id.to_string()).unwrap_or_default(),
        decided_by_name: decision.map(|d| d.by_name.clone()).unwrap_or_default(),
        decided_at: decision.map(|d| onewindow_proto::timestamp(d.at)),
        note: decision.map(|d| d.note.clone()).unwrap_or_default(),
        approver_ids: row.step.approver_ids.iter().map(Uuid::to_string).collect(),
        approver_names: row.step.approver_names.clone(),
        acting_for_id: decision.and_then(|d| d.acting_for_id).map(|id| id.to_string()).unwrap_or_default(),
        acting_for_name: decision.map(|d| d.acting_for_name.clone()).unwrap_or_default(),
        deemed: decision.is_some_and(|d| d.deemed),
        signatory: row.step.signatory,
        conversation: row
            .conversation
            .iter()
            .map(|m| pb::RowMessage {
                kind: match m.kind {
                    MessageKind::Approval => pb::row_message::Kind::Approval,
                    MessageKind::Rejection => pb::row_message::Kind::Rejection,
                    MessageKind::Answer => pb::row_message::Kind::Answer,
                } as i32,
                by_id: if m.by_id.is_nil() { String::new() } else { m.by_id.to_string() },
                by_name: m.by_name.clone(),
                text: m.text.clone(),
                at: Some(onewindow_proto::timestamp(m.at)),
            })
            .collect(),
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
        consumers::applications::ApplicationEvents,
        testing::{Directory as People, TestClock, Tokens, approver, monday_eleven, org, person, submitted_with_copy},
    };

    /// What the authorization table says of `who` calling routing's `method`, as the layer in front of the
    /// handlers decides it.
    fn table_admits(method: &str, who: &Principal) -> Result<(), Status> {
        let path = format!("/onewindow.routing.v1.RoutingService/{method}");
        match onewindow_auth::policy::gate(&path) {
            onewindow_auth::policy::Gate::Token(access) => onewindow_auth::policy::admit(access, who),
            other => panic!("{path} is {other:?}"),
        }
    }

    struct Routing {
        api: RoutingApi,
        tokens: Tokens,
        store: Arc<dyn EventStore>,
        people: People,
        clock: Arc<TestClock>,
    }

    impl Routing {
        async fn new() -> Self {
            let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
            Self::on(store)
        }

        fn on(store: Arc<dyn EventStore>) -> Self {
            let tokens = Tokens::new();
            let clock = Arc::new(TestClock::new(monday_eleven()));
            let api = RoutingApi { store: store.clone(), auth: tokens.auth.clone(), clock: clock.clone() };
            Self { api, tokens, store, people: People::default(), clock }
        }

        /// Submits an application of `applicant` with `route` and lets routing open its sheet.
        async fn open(&self, applicant: &Principal, route: Value) -> String {
            let event = submitted_with_copy(&self.store, applicant.user_id, route).await;
            let handler = ApplicationEvents::new(self.store.clone(), Arc::new(self.people.clone()), self.clock.clone());
            handler.handle(&event).await.expect("the sheet opens");
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
            Ok(self.inbox_page(who, ListInboxRequest::default()).await?.0)
        }

        async fn inbox_page(
            &self,
            who: &Principal,
            request: ListInboxRequest,
        ) -> Result<(Vec<String>, String), Status> {
            let answer = self.api.list_inbox(self.tokens.request(who, request)).await?.into_inner();
            Ok((answer.sheets.into_iter().map(|s| s.application_id).collect(), answer.next_page_token))
        }

        async fn answer(
            &self,
            who: &Principal,
            application_id: &str,
            row: i32,
            comment: &str,
        ) -> Result<pb::Sheet, Status> {
            let request =
                AnswerRejectionRequest { application_id: application_id.into(), row, comment: comment.into() };
            Ok(self.api.answer_rejection(self.tokens.request(who, request)).await?.into_inner().sheet.expect("a sheet"))
        }

        async fn delegate(&self, who: &Principal, request: DelegateApprovalsRequest) -> Result<String, Status> {
            Ok(self.api.delegate_approvals(self.tokens.request(who, request)).await?.into_inner().delegation_id)
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
        let results = denied.expect("answered per sheet").into_inner().results;
        assert!(results.iter().all(|r| !r.approved), "the applicant approved nothing: {results:?}");
        assert_eq!(table_admits("BulkApprove", &applicant).map_err(|s| s.code()), Err(Code::PermissionDenied));
    }

    /// Twelve departments of one parallel stage decide at the same moment, on a log several connections write to.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn twelve_approvers_deciding_at_once_are_all_recorded_once() {
        let dir = std::env::temp_dir().join(format!("onewindow-routing-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        let store =
            onewindow_eventlog::open(&format!("sqlite:{}", dir.join("routing.db").display())).await.expect("log");
        let routing = Arc::new(Routing::on(store));
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
        // The policy table refuses the call before the handler (the role is not the handler's to check).
        assert_eq!(table_admits("Decide", &executor).map_err(|s| s.code()), Err(Code::PermissionDenied));
        let missing = routing.decide(&library, &Uuid::now_v7().to_string(), pb::Decision::Approve, "", None).await;
        assert_eq!(missing.expect_err("no such sheet").code(), Code::NotFound);

        let sheet =
            routing.decide(&library, &id, pb::Decision::Reject, "Return two books", None).await.expect("rejected");
        assert_eq!(sheet.status, pb::SheetStatus::Open as i32, "a rejection asks for rework");
        assert_eq!(sheet.rows[0].status, pb::RowStatus::Rejected as i32);
        assert_eq!(sheet.rows[0].note, "Return two books");
        let again = routing.decide(&library, &id, pb::Decision::Approve, "", None).await.expect_err("awaiting answer");
        assert_eq!(again.code(), Code::FailedPrecondition);
        assert!(again.message().contains("answer"), "{}", again.message());
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
                    mandates: Vec::new(),
                },
                decision: Decision::Approve,
                note: String::new(),
                now: Utc::now(),
            };
            let events = decide(&loaded.state, command).expect("each may decide on its own");
            let metadata = request_metadata(who.actor(), None);
            let events = events.iter().map(|e| encode(e, &metadata).expect("encodes")).collect();
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

    fn timestamp(at: DateTime<Utc>) -> Option<prost_types::Timestamp> {
        Some(onewindow_proto::timestamp(at))
    }

    #[tokio::test]
    async fn a_rejection_is_answered_by_the_applicant_and_then_approved_through_the_api() {
        let routing = Routing::new().await;
        let applicant = person(&[Role::Applicant], "");
        let id = routing.open(&applicant, two_stages()).await;
        let (library, dormitory, dean) = (approver("library"), approver("dormitory"), approver("dean"));

        routing.decide(&library, &id, pb::Decision::Reject, "Return two books", None).await.expect("rejected");
        routing.decide(&dormitory, &id, pb::Decision::Approve, "", None).await.expect("the other row goes on");
        assert!(routing.inbox(&library).await.expect("inbox").is_empty(), "waiting for the applicant");
        assert!(routing.inbox(&dean).await.expect("inbox").is_empty(), "stage 2 waits for the rework");

        let stranger = routing.answer(&person(&[Role::Applicant], ""), &id, 0, "not mine").await.expect_err("stranger");
        assert_eq!(stranger.code(), Code::PermissionDenied);
        let not_rejected = routing.answer(&applicant, &id, 1, "?").await.expect_err("row 1 is approved");
        assert_eq!(not_rejected.code(), Code::FailedPrecondition);
        assert_eq!(
            invalid_fields(&routing.answer(&applicant, "x", -1, " ").await.expect_err("bad")),
            ["application_id", "row", "comment"]
        );
        let executor = routing.answer(&person(&[Role::Executor], ""), &id, 0, "I am staff").await.expect_err("staff");
        assert_eq!(executor.code(), Code::PermissionDenied);

        let sheet = routing.answer(&applicant, &id, 0, "Both books returned today").await.expect("answered");
        let talk: Vec<(i32, &str)> = sheet.rows[0].conversation.iter().map(|m| (m.kind, m.text.as_str())).collect();
        assert_eq!(
            talk,
            [
                (pb::row_message::Kind::Rejection as i32, "Return two books"),
                (pb::row_message::Kind::Answer as i32, "Both books returned today"),
            ]
        );
        assert_eq!(routing.inbox(&library).await.expect("inbox"), std::slice::from_ref(&id), "back with the library");
        let sheet = routing.decide(&library, &id, pb::Decision::Approve, "Thank you", None).await.expect("approved");
        assert_eq!(sheet.rows[0].status, pb::RowStatus::Approved as i32);
        assert_eq!(sheet.rows[0].conversation.len(), 3);
        assert_eq!(sheet.current_stage, 2);
        let done = routing.decide(&dean, &id, pb::Decision::Approve, "", None).await.expect("dean");
        assert_eq!((done.status, done.progress_percent), (pb::SheetStatus::Approved as i32, 100));

        let stream = sheet_stream(&org(), Uuid::parse_str(&id).expect("a UUID"));
        let types: Vec<String> =
            routing.store.read_stream(&stream).await.expect("stream").into_iter().map(|e| e.event_type).collect();
        assert_eq!(
            types,
            [
                "sheet.opened",
                "sheet.row_decided",
                "sheet.row_decided",
                "sheet.rework_answered",
                "sheet.row_decided",
                "sheet.row_decided",
                "sheet.approved"
            ]
        );
    }

    #[tokio::test]
    async fn a_substitute_decides_for_a_named_approver_during_the_delegation_through_the_api() {
        let routing = Routing::new().await;
        let mut head = approver("library");
        head.full_name = "Saule Head-Librarian".into();
        head.user_id = routing.people.add("library", "Librarian", &head.full_name);
        let mut deputy = approver("reading-room");
        deputy.full_name = "Dana Deputy".into();
        let applicant = person(&[Role::Applicant], "");
        let id = routing.open(&applicant, two_stages()).await;

        // A colleague of the library who does not hold the post is not the named approver.
        let colleague = routing.decide(&approver("library"), &id, pb::Decision::Approve, "", None).await;
        assert_eq!(colleague.expect_err("not named").code(), Code::PermissionDenied);
        let before = routing.decide(&deputy, &id, pb::Decision::Approve, "", None).await;
        assert_eq!(before.expect_err("no delegation yet").code(), Code::PermissionDenied);

        let now = routing.clock.now();
        let two_weeks = DelegateApprovalsRequest {
            substitute_id: deputy.user_id.to_string(),
            substitute_name: deputy.full_name.clone(),
            starts_at: timestamp(now),
            ends_at: timestamp(now + chrono::Duration::days(14)),
            ..Default::default()
        };
        let mut for_post = two_weeks.clone();
        for_post.department = "dormitory".into();
        for_post.position = "Head of dormitory".into();
        let refused = routing.delegate(&head, for_post.clone()).await.expect_err("only admins delegate a post");
        assert_eq!(invalid_fields(&refused), ["department"]);
        let mut backwards = two_weeks.clone();
        backwards.ends_at = timestamp(now - chrono::Duration::days(1));
        assert_eq!(invalid_fields(&routing.delegate(&head, backwards).await.expect_err("backwards")), ["ends_at"]);
        routing.delegate(&head, two_weeks).await.expect("delegated");
        routing.delegate(&person(&[Role::Admin], ""), for_post).await.expect("an admin delegates the post");

        assert_eq!(routing.inbox(&deputy).await.expect("inbox"), std::slice::from_ref(&id), "in the deputy's inbox");
        routing.get(&deputy, &id).await.expect("the substitute reads the sheet");
        let sheet = routing.decide(&deputy, &id, pb::Decision::Approve, "", None).await.expect("decided as substitute");
        let row = &sheet.rows[0];
        assert_eq!(row.approver_ids, [head.user_id.to_string()]);
        assert_eq!(
            (row.decided_by_name.as_str(), row.acting_for_name.as_str()),
            ("Dana Deputy", "Saule Head-Librarian")
        );
        assert_eq!(row.acting_for_id, head.user_id.to_string());
        let sheet = routing.decide(&deputy, &id, pb::Decision::Approve, "", None).await.expect("and for the post");
        assert_eq!(sheet.rows[1].acting_for_name, "Head of dormitory");

        // After the period the deputy decides nothing more for the head.
        routing.clock.advance(chrono::Duration::days(15));
        let other = routing.open(&applicant, two_stages()).await;
        let late = routing.decide(&deputy, &other, pb::Decision::Approve, "", None).await;
        assert_eq!(late.expect_err("the delegation is over").code(), Code::PermissionDenied);

        let events =
            routing.store.read_stream(&sheet_stream(&org(), Uuid::parse_str(&id).expect("id"))).await.expect("stream");
        let decided = events.iter().find(|e| e.event_type == "sheet.row_decided").expect("a decision");
        assert_eq!(decided.payload["acting_for_id"], head.user_id.to_string());
        assert_eq!(decided.payload["acting_for_name"], "Saule Head-Librarian");
    }

    #[tokio::test]
    async fn a_signatory_signs_the_last_stage_and_the_signature_is_on_the_sheet() {
        let routing = Routing::new().await;
        let id = routing
            .open(
                &person(&[Role::Applicant], ""),
                json!([
                    { "stage": 1, "department": "library", "position": "Librarian" },
                    { "stage": 2, "department": "rectorate", "position": "Vice-rector", "signatory": true },
                ]),
            )
            .await;
        let vice_rector = person(&[Role::Signatory], "rectorate");
        let sign =
            |who: &Principal| routing.api.sign(routing.tokens.request(who, SignRequest { application_id: id.clone() }));
        assert_eq!(sign(&vice_rector).await.expect_err("stage 1 first").code(), Code::FailedPrecondition);
        assert!(routing.inbox(&vice_rector).await.expect("inbox").is_empty(), "not yet the signatory's turn");
        routing.decide(&approver("library"), &id, pb::Decision::Approve, "", None).await.expect("library");
        assert_eq!(routing.inbox(&vice_rector).await.expect("inbox"), std::slice::from_ref(&id), "theirs to sign now");
        assert_eq!(
            sign(&person(&[Role::Signatory], "deans-office")).await.expect_err("not theirs").code(),
            Code::PermissionDenied
        );
        let answer = sign(&vice_rector).await.expect("signed").into_inner();
        let signature = answer.signature.expect("a signature");
        assert_eq!(signature.signed_by_name, vice_rector.full_name);
        assert_eq!(signature.sha256.len(), 64);
        let sheet = answer.sheet.expect("sheet");
        assert_eq!(sheet.status, pb::SheetStatus::Approved as i32);
        assert_eq!(sheet.signatures, [signature]);
    }

    #[tokio::test]
    async fn the_inbox_filters_by_service_age_and_deadline_and_pages() {
        let routing = Routing::new().await;
        let library = approver("library");
        let applicant = person(&[Role::Applicant], "");
        let timed = json!([{ "stage": 1, "department": "library", "position": "Librarian", "time_limit_hours": 2 }]);
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(routing.open(&applicant, two_stages()).await);
            routing.clock.advance(chrono::Duration::hours(1));
        }
        let overdue = routing.open(&applicant, timed).await;
        let (first, next) = routing
            .inbox_page(&library, ListInboxRequest { page_size: 2, ..Default::default() })
            .await
            .expect("page 1");
        assert_eq!(first, ids[..2], "oldest first");
        let (second, last) = routing
            .inbox_page(&library, ListInboxRequest { page_size: 2, page_token: next, ..Default::default() })
            .await
            .expect("page 2");
        assert_eq!(second, [ids[2].clone(), overdue.clone()]);
        assert!(last.is_empty(), "the last page");

        let old = ListInboxRequest { min_age_hours: 2, ..Default::default() };
        assert_eq!(routing.inbox_page(&library, old).await.expect("old").0, ids[..2]);
        let other_service = ListInboxRequest { service_code: "transcript".into(), ..Default::default() };
        assert!(routing.inbox_page(&library, other_service).await.expect("none").0.is_empty());
        let late = ListInboxRequest { overdue_only: true, ..Default::default() };
        assert!(routing.inbox_page(&library, late.clone()).await.expect("none yet").0.is_empty());
        routing.clock.advance(chrono::Duration::hours(3));
        assert_eq!(routing.inbox_page(&library, late).await.expect("overdue").0, [overdue]);
        let bad = ListInboxRequest { page_size: -1, page_token: "x".into(), min_age_hours: -1, ..Default::default() };
        assert_eq!(
            invalid_fields(&routing.inbox_page(&library, bad).await.expect_err("bad")),
            ["min_age_hours", "page_size", "page_token"]
        );
    }

    #[tokio::test]
    async fn the_deadline_worker_reminds_escalates_and_deems_once_each_as_the_clock_moves() {
        let routing = Routing::new().await;
        let librarian = routing.people.add("library", "Librarian", "Saule Librarian");
        let head = routing.people.add("library", crate::deadlines::HEAD_POSITION, "Head of the library");
        let id = routing
            .open(
                &person(&[Role::Applicant], ""),
                json!([
                    { "stage": 1, "department": "library", "position": "Librarian", "time_limit_hours": 8 },
                    { "stage": 2, "department": "dean", "position": "Dean", "time_limit_hours": 4, "on_silence": "approve" },
                ]),
            )
            .await;
        let worker = crate::deadlines::DeadlineWorker::new(
            routing.store.clone(),
            Arc::new(routing.people.clone()),
            routing.clock.clone(),
        );
        let stream = sheet_stream(&org(), Uuid::parse_str(&id).expect("id"));
        let types = || async {
            let events = routing.store.read_stream(&stream).await.expect("stream");
            events.into_iter().map(|e| (e.event_type, e.payload)).collect::<Vec<_>>()
        };
        assert_eq!(worker.scan().await.expect("scan"), 0, "nothing due at the start");

        // Monday 11:00 + 8 working hours (lunch 13:00–14:00 on Kazakhstan's calendar) ends on Tuesday.
        let deadline = crate::consumers::catalog_copy::CalendarSettings::default()
            .calendar_or_default()
            .add_working_hours(routing.clock.now(), 8);
        routing.clock.set(deadline - chrono::Duration::minutes(30));
        assert_eq!(worker.scan().await.expect("scan"), 1);
        assert_eq!(worker.scan().await.expect("scan again"), 0, "reminded once");
        let events = types().await;
        let (kind, reminder) = events.last().expect("an event");
        assert_eq!(kind, "sheet.deadline_reminder");
        assert_eq!(reminder["notify"], json!([librarian]));
        assert_eq!(reminder["stage"], 1);
        assert_eq!(reminder["number"], "KZ-2026-000042");

        routing.clock.set(deadline + chrono::Duration::minutes(1));
        // Two replicas scanning at once record one escalation.
        let twin = crate::deadlines::DeadlineWorker::new(
            routing.store.clone(),
            Arc::new(routing.people.clone()),
            routing.clock.clone(),
        );
        let (a, b) = tokio::join!(worker.scan(), twin.scan());
        assert_eq!(a.expect("scan") + b.expect("scan"), 1, "one escalation between two replicas");
        let events = types().await;
        let (kind, escalation) = events.last().expect("an event");
        assert_eq!(kind, "sheet.deadline_escalated");
        assert_eq!(escalation["notify"], json!([head]), "the department's head");
        assert_eq!(worker.scan().await.expect("scan"), 0, "escalated once");

        // The library decides late; the dean's stage is silent past its limit: deemed approved.
        let mut saule = approver("library");
        saule.user_id = librarian;
        routing.decide(&saule, &id, pb::Decision::Approve, "", None).await.expect("late but decided");
        routing.clock.advance(chrono::Duration::days(1));
        assert_eq!(worker.scan().await.expect("scan"), 1);
        let events = types().await;
        let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(&kinds[kinds.len() - 2..], ["sheet.row_decided", "sheet.approved"]);
        assert_eq!(events[events.len() - 2].1["deemed"], true);
        let sheet = routing.get(&person(&[Role::Executor], ""), &id).await.expect("sheet");
        assert!(sheet.rows[1].deemed);
        assert_eq!(sheet.status, pb::SheetStatus::Approved as i32);
    }
}
