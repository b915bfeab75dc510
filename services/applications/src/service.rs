//! The applications gRPC API: thin handlers over the pure domain. Each command loads the application, checks who
//! may do it, decides, and commits with the loaded version (or the client's `expected_version`) as the expected one.

use std::sync::Arc;

use chrono::Datelike;
use onewindow_auth::{Authenticator, Principal, Role};
use onewindow_calendar::WorkingCalendar;
use onewindow_commands::{Attempt, Command, CommandError, RetryPolicy, encode_all, retry, run_checked_command};
use onewindow_eventlog::{Commit, EventStore, Loaded, OrgId, StoreError, StreamAppend, StreamRef, load};
use onewindow_proto::applications::v1::{self as pb, applications_service_server::ApplicationsService};
use onewindow_server::{Clock, FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::attachments;
use crate::convert::{application_pb, language_from_pb, timing_pb};
use crate::domain::{
    APPLICATION, Actor, Application, ApplicationError, ApplicationEvent, AttachedFiles, CommentAuthor, CounterEvent,
    Created, Draft, Language, NUMBER_COUNTER, as_of, create, format_number, planned_completion, why_late,
};
use crate::upstream::Upstream;
use onewindow_blobs::BlobStore;

pub struct ApplicationsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) upstream: Upstream,
    /// Where the attachments' files are: a deleted draft's files are removed.
    pub(crate) attachment_blobs: Arc<dyn BlobStore>,
    /// The time commands decide at (planned dates, time left, as-of reads).
    pub(crate) clock: Arc<dyn Clock>,
}

impl From<ApplicationError> for Status {
    fn from(error: ApplicationError) -> Self {
        match error {
            ApplicationError::NotFound => Status::not_found("no such application"),
            ApplicationError::AlreadyExists => Status::already_exists("the application exists already"),
            ApplicationError::InvalidTransition { .. }
            | ApplicationError::SheetNotApproved
            | ApplicationError::DocumentIssuedAutomatically
            | ApplicationError::FormNotIssuedYet
            | ApplicationError::FormDelayed => Status::failed_precondition(error.to_string()),
            ApplicationError::Invalid(fields) => {
                let mut errors = FieldErrors::new();
                for (field, problem) in fields {
                    errors.add(field, problem);
                }
                errors.into_result().err().unwrap_or_else(|| Status::invalid_argument("invalid"))
            }
        }
    }
}

fn parse_id(field: &str, raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldErrors::one(field, "must be a UUID"))
}

fn parse_preset(value: Option<i32>) -> Result<Option<u32>, Status> {
    value.map(|v| u32::try_from(v).map_err(|_| FieldErrors::one("reason_preset", "must not be negative"))).transpose()
}

/// The applicant sees their own applications; an approver those whose route passes their department (the
/// sheets they are on); the service centre's staff, administrators and integrators every application of the
/// organisation.
pub(crate) fn may_read(principal: &Principal, state: &Application) -> bool {
    state.created.as_ref().is_some_and(|created| may_read_created(principal, created))
}

pub(crate) fn may_read_created(principal: &Principal, created: &Created) -> bool {
    let own = created.applicant_id == principal.user_id;
    let on_route = principal.has(Role::Approver)
        && !principal.department.is_empty()
        && created.service.route.iter().any(|step| step.department == principal.department);
    // Integrator accounts (document management, accounting) read every application of their organisation.
    own || on_route || [Role::Executor, Role::Admin, Role::Integrator].into_iter().any(|role| principal.has(role))
}

fn is_staff(principal: &Principal) -> bool {
    principal.has(Role::Executor) || principal.has(Role::Admin)
}

fn actor(principal: &Principal) -> Actor {
    Actor { id: principal.user_id, name: principal.full_name.clone() }
}

/// Who may act on a loaded application.
#[derive(Clone, Copy)]
enum Party {
    Applicant,
    Staff,
    /// The applicant or staff (comments).
    Either,
}

/// Whether the caller may act on the loaded application as `party`: it exists, and it is theirs (or they are staff).
fn may_act(principal: &Principal, party: Party, loaded: &Loaded<Application>) -> Result<(), Status> {
    if !loaded.state.exists() {
        return Err(ApplicationError::NotFound.into());
    }
    let own = loaded.state.applicant_id() == Some(principal.user_id);
    let allowed = match party {
        Party::Applicant => own,
        Party::Staff => is_staff(principal),
        Party::Either => own || is_staff(principal),
    };
    if allowed {
        return Ok(());
    }
    if !may_read(principal, &loaded.state) {
        return Err(Status::permission_denied("this application belongs to someone else"));
    }
    Err(Status::permission_denied(match party {
        Party::Applicant => "only the applicant may do this",
        Party::Staff | Party::Either => "only the service centre's staff may do this",
    }))
}

impl ApplicationsApi {
    async fn calendar(&self, org: &OrgId) -> Result<WorkingCalendar, Status> {
        crate::catalog_copy::working_calendar(self.store.as_ref(), org).await.map_err(store_status)
    }

    async fn answer(&self, org: &OrgId, loaded: &Loaded<Application>) -> Result<pb::Application, Status> {
        let answer = application_pb(org, &loaded.state, loaded.version, self.clock.now(), &self.calendar(org).await?)?;
        self.with_kept_beside(org, answer).await
    }

    /// The application as it stands, with what is kept beside it: whether a parked event holds it up, and its
    /// issued documents.
    async fn with_kept_beside(&self, org: &OrgId, mut answer: pb::Application) -> Result<pb::Application, Status> {
        let Ok(id) = Uuid::parse_str(&answer.id) else { return Ok(answer) };
        let delays = crate::delays::delays_of(self.store.as_ref(), org, id).await.map_err(store_status)?;
        answer.processing_delayed = !delays.0.is_empty();
        answer.delayed_since = delays.since().map(onewindow_proto::timestamp);
        let documents =
            crate::issued_documents::issued_documents_of(self.store.as_ref(), org, id).await.map_err(store_status)?;
        answer.documents = documents
            .0
            .into_iter()
            .map(|d| pb::IssuedDocument {
                document_id: d.document_id.to_string(),
                document_type: d.document_type,
                registration_number: d.registration_number,
                receipt: d.receipt,
            })
            .collect();
        Ok(answer)
    }

    /// Loads the application named by `raw_id` for a reader: it exists, and the caller may read it.
    async fn readable<T>(
        &self,
        request: &Request<T>,
        raw_id: &str,
    ) -> Result<(Principal, Loaded<Application>), Status> {
        let principal = self.auth.authenticate(request).await?;
        let id = parse_id("application_id", raw_id)?;
        let stream = StreamRef::new(&principal.org, APPLICATION, id.to_string());
        let loaded = load::<Application>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        if !loaded.state.exists() {
            return Err(ApplicationError::NotFound.into());
        }
        if !may_read(&principal, &loaded.state) {
            return Err(Status::permission_denied("this application belongs to someone else"));
        }
        Ok((principal, loaded))
    }

    /// The command on the application named by `raw_id`, by `principal`: its events are correlated with the
    /// application, and with the client's `expected_version` a stale view is ABORTED, never decided again.
    fn command_on(
        principal: &Principal,
        raw_id: &str,
        expected_version: Option<i64>,
    ) -> Result<(Uuid, Command), Status> {
        let id = parse_id("application_id", raw_id)?;
        let stream = StreamRef::new(&principal.org, APPLICATION, id.to_string());
        let metadata = request_metadata(principal.actor(), Some(id));
        Ok((id, Command::new(stream, metadata).expecting(expected_version)))
    }

    /// One command: load the application, check the caller may act as `party`, decide, commit (the runner decides
    /// again after a lost race, usually another service's reaction landing between the load and the commit), and
    /// answer the application as it now is.
    async fn command<T>(
        &self,
        request: &Request<T>,
        raw_id: &str,
        expected_version: Option<i64>,
        party: Party,
        decide: impl Fn(&Application, &Principal) -> Result<Vec<ApplicationEvent>, ApplicationError> + Send + Sync,
    ) -> Result<pb::Application, Status> {
        let principal = self.auth.authenticate(request).await?;
        let (_, command) = Self::command_on(&principal, raw_id, expected_version)?;
        let ran = run_checked_command(
            self.store.as_ref(),
            &command,
            |loaded| may_act(&principal, party, loaded),
            |loaded| decide(&loaded.state, &principal).map_err(Status::from),
        )
        .await?;
        self.answer_after(&principal.org, &command.stream, ran.wrote(), ran.decided_on).await
    }

    /// The application after a command: read again when it wrote, otherwise as it was decided on.
    async fn answer_after(
        &self,
        org: &OrgId,
        stream: &StreamRef,
        wrote: bool,
        decided_on: Loaded<Application>,
    ) -> Result<pb::Application, Status> {
        let loaded = if wrote {
            load::<Application>(self.store.as_ref(), stream).await.map_err(store_status)?
        } else {
            decided_on
        };
        self.answer(org, &loaded).await
    }
}

#[tonic::async_trait]
impl ApplicationsService for ApplicationsApi {
    #[tracing::instrument(skip_all, fields(service = %request.get_ref().service_code), err)]
    async fn create_application(
        &self,
        request: Request<pb::CreateApplicationRequest>,
    ) -> Result<Response<pb::CreateApplicationResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let body = request.get_ref();
        let mut errors = FieldErrors::new();
        errors.check(!body.service_code.trim().is_empty(), "service_code", "is required");
        let language = language_from_pb(body.document_language);
        errors.check(language.is_ok(), "document_language", "must be LANGUAGE_KK, LANGUAGE_RU or LANGUAGE_EN");
        errors.check(body.reason_preset.is_none_or(|p| p >= 0), "reason_preset", "must not be negative");
        errors.into_result()?;

        let incoming = request.metadata();
        let code = body.service_code.trim();
        let service = self.upstream.service_snapshot(self.store.as_ref(), incoming, &principal.org, code).await?;
        let applicant = self.upstream.applicant_block(incoming).await?;
        let document_language = language.ok().flatten();
        let reason_preset = parse_preset(body.reason_preset)?;
        let mut reason = body.reason.trim().to_owned();
        if reason.is_empty()
            && let Some(text) = reason_preset.and_then(|p| service.reasons.get(p as usize))
        {
            reason = text.get(document_language.unwrap_or(Language::En)).to_owned();
        }
        // The application's contacts start as the card's; the applicant may change them for this application.
        let or_card =
            |given: &str, card: &str| if given.trim().is_empty() { card.to_owned() } else { given.trim().to_owned() };
        let draft = Draft {
            document_language,
            reason_preset,
            reason,
            email: or_card(&body.email, &applicant.email),
            phone: or_card(&body.phone, &applicant.phone),
            own_statement: None,
        };
        let application_id = Uuid::now_v7();
        let metadata = request_metadata(principal.actor(), Some(application_id));
        let now = self.clock.now();
        let planned_at = planned_completion(&self.calendar(&principal.org).await?, now, &service);
        let counter = StreamRef::new(&principal.org, NUMBER_COUNTER, now.year().to_string());
        let stream = StreamRef::new(&principal.org, APPLICATION, application_id.to_string());

        // A lost race for the counter means another application took the number: take the next one.
        let store = self.store.as_ref();
        let (counter, stream, metadata) = (&counter, &stream, &metadata);
        let (service, draft, applicant, principal) = (&service, &draft, &applicant, &principal);
        retry(store, RetryPolicy::DEFAULT, move |_| async move {
            let taken = store.stream_version(counter).await?;
            let created = Created {
                application_id,
                number: format_number(principal.org.as_str(), now.year(), taken + 1),
                applicant_id: principal.user_id,
                applicant_name: principal.full_name.clone(),
                service: service.clone(),
                draft: draft.clone(),
                applicant: applicant.clone(),
                planned_at,
            };
            let events = create(&Application::default(), created).map_err(CommandError::<ApplicationError>::Refused)?;
            // The number and the application are written together: a number is never taken without its application.
            let commit = Commit {
                appends: vec![
                    StreamAppend {
                        stream: counter.clone(),
                        expected_version: taken,
                        events: encode_all(&[CounterEvent::Taken { application_id }], metadata)
                            .map_err(StoreError::from)?,
                    },
                    StreamAppend {
                        stream: stream.clone(),
                        expected_version: 0,
                        events: encode_all(&events, metadata).map_err(StoreError::from)?,
                    },
                ],
                inbox: None,
            };
            Ok(Attempt::Commit(commit, ()))
        })
        .await
        .map_err(Status::from)?;
        let loaded = load::<Application>(self.store.as_ref(), stream).await.map_err(store_status)?;
        let application = self.answer(&principal.org, &loaded).await?;
        tracing::info!(application_id = %application_id, number = %application.number, "application created");
        Ok(Response::new(pb::CreateApplicationResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn update_draft(
        &self,
        request: Request<pb::UpdateDraftRequest>,
    ) -> Result<Response<pb::UpdateDraftResponse>, Status> {
        let body = request.get_ref();
        let mut errors = FieldErrors::new();
        let document_language = language_from_pb(body.document_language);
        errors.check(document_language.is_ok(), "document_language", "must be LANGUAGE_KK, LANGUAGE_RU or LANGUAGE_EN");
        let reason_language = language_from_pb(body.reason_language);
        errors.check(reason_language.is_ok(), "reason_language", "must be LANGUAGE_KK, LANGUAGE_RU or LANGUAGE_EN");
        let own_statement = body.own_statement_attachment_id.trim();
        let own_statement = (!own_statement.is_empty()).then(|| Uuid::parse_str(own_statement));
        errors.check(!matches!(own_statement, Some(Err(_))), "own_statement_attachment_id", "must be a UUID");
        errors.check(body.reason_preset.is_none_or(|p| p >= 0), "reason_preset", "must not be negative");
        errors.into_result()?;
        let document_language = document_language.ok().flatten();
        let draft = Draft {
            document_language,
            reason_preset: parse_preset(body.reason_preset)?,
            reason: body.reason.trim().to_owned(),
            email: body.email.trim().to_owned(),
            phone: body.phone.trim().to_owned(),
            own_statement: own_statement.and_then(Result::ok),
        };
        let text_language = reason_language.ok().flatten().or(document_language).unwrap_or(Language::En);
        let principal = self.auth.authenticate(&request).await?;
        let (calendar, now) = (self.calendar(&principal.org).await?, self.clock.now());
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Applicant, |state, _| {
                let service = state.created.as_ref().map(|c| &c.service);
                let planned_at = service.and_then(|service| planned_completion(&calendar, now, service));
                crate::domain::update_draft(state, draft.clone(), text_language, planned_at)
            })
            .await?;
        Ok(Response::new(pb::UpdateDraftResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn delete_draft(
        &self,
        request: Request<pb::DeleteDraftRequest>,
    ) -> Result<Response<pb::DeleteDraftResponse>, Status> {
        let body = request.get_ref();
        let principal = self.auth.authenticate(&request).await?;
        let (application_id, command) = Self::command_on(&principal, &body.application_id, body.expected_version)?;
        // The deleted draft no longer reads back: nothing to answer but success.
        run_checked_command(
            self.store.as_ref(),
            &command,
            |loaded| may_act(&principal, Party::Applicant, loaded),
            |loaded| crate::domain::delete_draft(&loaded.state).map_err(Status::from),
        )
        .await?;
        let (org, actor_name) = (principal.org.clone(), principal.actor());
        // With the draft gone, its files go too (after the commit: a crash leaves files no draft names, harmless).
        let metadata = request_metadata(actor_name, Some(application_id));
        let removed = attachments::delete_all(
            self.store.as_ref(),
            self.attachment_blobs.as_ref(),
            &org,
            application_id,
            &metadata,
        )
        .await?;
        tracing::info!(%application_id, removed, "draft deleted with its files");
        Ok(Response::new(pb::DeleteDraftResponse {}))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Result<Response<pb::SubmitApplicationResponse>, Status> {
        let body = request.get_ref();
        let principal = self.auth.authenticate(&request).await?;
        let (application_id, command) = Self::command_on(&principal, &body.application_id, body.expected_version)?;
        let org = &principal.org;
        let calendar = self.calendar(org).await?;
        let policy = if command.expected_version.is_some() { command.policy.once() } else { command.policy };
        // Not one aggregate: the files are read again with the application on every attempt, and sealed in the
        // same commit, so an upload racing the submission fails (and is decided again) instead of slipping in.
        let (store, command, principal, agreed) = (self.store.as_ref(), &command, &principal, body.agreed_to_terms);
        let calendar = &calendar;
        let submitted = retry(store, policy, move |_| async move {
            let loaded = load::<Application>(store, &command.stream).await?;
            may_act(principal, Party::Applicant, &loaded).map_err(CommandError::Refused)?;
            if let Some(expected) = command.expected_version.filter(|v| *v != loaded.version) {
                return Err(CommandError::Stale { stream: command.stream.clone(), expected, current: loaded.version });
            }
            let created =
                loaded.state.created.as_ref().ok_or(CommandError::Refused(ApplicationError::NotFound.into()))?;
            let (files, files_version) = attachments::attachments_of(store, org, application_id).await?;
            let attached = AttachedFiles {
                per_document: (0..created.service.required_documents.len() as u32)
                    .map(|i| (i, files.count(i)))
                    .collect(),
                ids: files.files.iter().map(|f| f.file.attachment_id).collect(),
            };
            let planned_at = planned_completion(calendar, self.clock.now(), &created.service);
            let events = crate::domain::submit(&loaded.state, agreed, &attached, planned_at)
                .map_err(|e| CommandError::Refused(e.into()))?;
            let metadata = &command.metadata;
            let mut commit = Commit::append(
                command.stream.clone(),
                loaded.version,
                encode_all(&events, metadata).map_err(StoreError::from)?,
            );
            commit.appends.extend(attachments::seal_append(org, application_id, &files, files_version, metadata)?);
            let wrote = !events.is_empty();
            Ok(if wrote { Attempt::Commit(commit, (wrote, loaded)) } else { Attempt::Answer((wrote, loaded)) })
        })
        .await
        .map_err(Status::from)?;
        let (wrote, decided_on) = submitted.answer;
        let application = self.answer_after(org, &command.stream, wrote, decided_on).await?;
        tracing::info!(application_id = %application.id, "application submitted");
        Ok(Response::new(pb::SubmitApplicationResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Result<Response<pb::WithdrawApplicationResponse>, Status> {
        let body = request.get_ref();
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Applicant, |state, _| {
                crate::domain::withdraw(state, body.reason.clone())
            })
            .await?;
        Ok(Response::new(pb::WithdrawApplicationResponse { application: Some(application) }))
    }

    async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Result<Response<pb::GetApplicationResponse>, Status> {
        let (principal, loaded) = self.readable(&request, &request.get_ref().application_id).await?;
        let calendar = self.calendar(&principal.org).await?;
        let application = match request.get_ref().as_of {
            None => {
                let answer =
                    application_pb(&principal.org, &loaded.state, loaded.version, self.clock.now(), &calendar)?;
                self.with_kept_beside(&principal.org, answer).await?
            }
            Some(moment) => {
                let moment = onewindow_proto::from_timestamp(moment)
                    .ok_or_else(|| FieldErrors::one("as_of", "is not a valid timestamp"))?;
                let version = loaded.events.iter().filter(|e| e.metadata.occurred_at <= moment).count() as i64;
                let past = as_of(loaded.events, moment).map_err(store_status)?;
                if past.created.is_none() {
                    return Err(Status::not_found("the application did not exist yet at that moment"));
                }
                application_pb(&principal.org, &past, version, moment, &calendar)?
            }
        };
        Ok(Response::new(pb::GetApplicationResponse { application: Some(application) }))
    }

    async fn get_application_timing(
        &self,
        request: Request<pb::GetApplicationTimingRequest>,
    ) -> Result<Response<pb::GetApplicationTimingResponse>, Status> {
        let (principal, loaded) = self.readable(&request, &request.get_ref().application_id).await?;
        let calendar = self.calendar(&principal.org).await?;
        let lateness = why_late(&loaded.state, &calendar, self.clock.now())
            .ok_or_else(|| Status::failed_precondition("a draft has no timing yet: it is not submitted"))?;
        Ok(Response::new(timing_pb(&lateness, &calendar)))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn accept_application(
        &self,
        request: Request<pb::AcceptApplicationRequest>,
    ) -> Result<Response<pb::AcceptApplicationResponse>, Status> {
        let body = request.get_ref();
        let principal = self.auth.authenticate(&request).await?;
        // The executor's name is asked of identity once, not on every retry.
        let executor = if body.executor_id.trim().is_empty() {
            actor(&principal)
        } else {
            let id = parse_id("executor_id", &body.executor_id)?;
            Actor { id, name: self.upstream.person_name(request.metadata(), &principal, "executor_id", id).await? }
        };
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Staff, |state, by| {
                crate::domain::accept(state, executor.clone(), actor(by))
            })
            .await?;
        Ok(Response::new(pb::AcceptApplicationResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn assign_executor(
        &self,
        request: Request<pb::AssignExecutorRequest>,
    ) -> Result<Response<pb::AssignExecutorResponse>, Status> {
        let body = request.get_ref();
        let id = parse_id("executor_id", &body.executor_id)?;
        let principal = self.auth.authenticate(&request).await?;
        let executor =
            Actor { id, name: self.upstream.person_name(request.metadata(), &principal, "executor_id", id).await? };
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Staff, |state, by| {
                crate::domain::assign_executor(state, executor.clone(), actor(by))
            })
            .await?;
        Ok(Response::new(pb::AssignExecutorResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn set_planned_date(
        &self,
        request: Request<pb::SetPlannedDateRequest>,
    ) -> Result<Response<pb::SetPlannedDateResponse>, Status> {
        let body = request.get_ref();
        let planned_at = body
            .planned_at
            .and_then(onewindow_proto::from_timestamp)
            .ok_or_else(|| FieldErrors::one("planned_at", "is required"))?;
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Staff, |state, by| {
                crate::domain::set_planned_date(
                    state,
                    planned_at,
                    body.remark.trim().to_owned(),
                    actor(by),
                    self.clock.now(),
                )
            })
            .await?;
        Ok(Response::new(pb::SetPlannedDateResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn complete_application(
        &self,
        request: Request<pb::CompleteApplicationRequest>,
    ) -> Result<Response<pb::CompleteApplicationResponse>, Status> {
        let body = request.get_ref();
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Staff, |state, by| {
                crate::domain::complete(state, actor(by))
            })
            .await?;
        Ok(Response::new(pb::CompleteApplicationResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn issue_application(
        &self,
        request: Request<pb::IssueApplicationRequest>,
    ) -> Result<Response<pb::IssueApplicationResponse>, Status> {
        let body = request.get_ref();
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Staff, |state, by| {
                crate::domain::issue(state, actor(by))
            })
            .await?;
        Ok(Response::new(pb::IssueApplicationResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn refuse_application(
        &self,
        request: Request<pb::RefuseApplicationRequest>,
    ) -> Result<Response<pb::RefuseApplicationResponse>, Status> {
        let body = request.get_ref();
        let application = self
            .command(&request, &body.application_id, body.expected_version, Party::Staff, |state, by| {
                crate::domain::refuse(state, body.reason.clone(), actor(by))
            })
            .await?;
        Ok(Response::new(pb::RefuseApplicationResponse { application: Some(application) }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn add_comment(
        &self,
        request: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::AddCommentResponse>, Status> {
        let body = request.get_ref();
        let comment_id =
            if body.comment_id.trim().is_empty() { Uuid::now_v7() } else { parse_id("comment_id", &body.comment_id)? };
        let application = self
            .command(&request, &body.application_id, None, Party::Either, |state, by| {
                let role = if state.applicant_id() == Some(by.user_id) {
                    CommentAuthor::Applicant
                } else {
                    CommentAuthor::Staff
                };
                crate::domain::comment(state, comment_id, actor(by), role, body.text.clone())
            })
            .await?;
        Ok(Response::new(pb::AddCommentResponse { application: Some(application) }))
    }
    type PrintApplicationStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::PrintApplicationResponse, Status>> + Send>>;

    async fn print_application(
        &self,
        request: Request<pb::PrintApplicationRequest>,
    ) -> Result<Response<Self::PrintApplicationStream>, Status> {
        let body = request.get_ref();
        let language = match language_from_pb(body.language) {
            Ok(Some(Language::Kk)) => "kk",
            Ok(Some(Language::Ru)) => "ru",
            Ok(Some(Language::En)) => "en",
            Ok(None) => "",
            Err(_) => return Err(FieldErrors::one("language", "must be LANGUAGE_KK, LANGUAGE_RU or LANGUAGE_EN")),
        };
        let (_, loaded) = self.readable(&request, &body.application_id).await?;
        let (document_id, number) = crate::domain::printable_form(&loaded.state, self.clock.now())?;
        let pdf = self.upstream.download(request.metadata(), document_id, language).await?;
        let mut first = Some((document_id.to_string(), number));
        let chunks = futures::StreamExt::map(pdf, move |chunk| {
            let (document_id, registration_number) = first.take().unwrap_or_default();
            chunk.map(|c| pb::PrintApplicationResponse { chunk: c.chunk, document_id, registration_number })
        });
        Ok(Response::new(Box::pin(chunks)))
    }
}

#[cfg(test)]
mod tests {
    use onewindow_eventlog::OrgId;

    use super::*;
    use crate::convert::issued_document_name;
    use crate::domain::{Created, RouteStep, ServiceSnapshot};

    fn person(roles: &[Role], department: &str) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            org: OrgId::parse("kaznu").expect("org"),
            roles: roles.to_vec(),
            full_name: "Test".into(),
            department: department.into(),
            position: String::new(),
        }
    }

    fn application(applicant: Uuid) -> Application {
        let step = |stage, department: &str| RouteStep {
            stage,
            department: department.into(),
            position: "Head".into(),
            required: 0,
        };
        Application {
            created: Some(Created {
                application_id: Uuid::now_v7(),
                number: "KAZNU-2026-000001".into(),
                applicant_id: applicant,
                applicant_name: "A".into(),
                service: ServiceSnapshot {
                    code: "clearance-sheet".into(),
                    version: 1,
                    name_kk: String::new(),
                    name_ru: String::new(),
                    name_en: String::new(),
                    route: vec![step(1, "library"), step(2, "deans-office")],
                    ..ServiceSnapshot::default()
                },
                draft: Draft::default(),
                applicant: Default::default(),
                planned_at: None,
            }),
            ..Application::default()
        }
    }

    #[test]
    fn every_catalog_document_type_is_named_as_documents_expects() {
        use onewindow_proto::catalog::v1::DocumentType;
        let names: Vec<_> = [
            DocumentType::CertificateOfStudy,
            DocumentType::CertificateOfStipend,
            DocumentType::ClearanceSheet,
            DocumentType::Order,
            DocumentType::None,
        ]
        .into_iter()
        .map(|t| issued_document_name(t as i32))
        .collect();
        assert_eq!(names, ["certificate_of_study", "certificate_of_stipend", "clearance_sheet", "order", ""]);
        assert_eq!(issued_document_name(99), "");
    }

    #[test]
    fn an_application_is_read_by_its_applicant_its_route_and_the_service_centre() {
        let applicant = person(&[Role::Applicant], "");
        let app = application(applicant.user_id);
        assert!(may_read(&applicant, &app));
        assert!(may_read(&person(&[Role::Approver], "deans-office"), &app), "an approver on the route");
        assert!(may_read(&person(&[Role::Executor], ""), &app) && may_read(&person(&[Role::Admin], ""), &app));
        assert!(may_read(&person(&[Role::Integrator], ""), &app), "an integrator reads, read-only");
        assert!(!may_read(&person(&[Role::Signatory], ""), &app), "a signatory is not staff");
        assert!(!may_read(&person(&[Role::Approver], "accounting"), &app), "an approver off the route");
        assert!(!may_read(&person(&[Role::Approver], ""), &app), "an approver of no department");
        assert!(!may_read(&person(&[Role::Applicant], "library"), &app), "another applicant");
        assert!(!may_read(&applicant, &Application::default()), "nothing to read");
    }
}
