//! The lists gRPC API: thin handlers over the `application_list` read model, and the watch streams driven by the
//! projection runner (which tells of every application event once the read model holds it, including events
//! another replica applied).

use std::{collections::HashMap, pin::Pin, sync::Arc};

use async_trait::async_trait;
use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_eventlog::Database;
use onewindow_projections::{Applied, ProjectionRunner};
use onewindow_proto::applications::v1::{
    self as pb, ListMyApplicationsRequest, ListMyApplicationsResponse, ListQueueRequest, ListQueueResponse,
    WatchApplicationRequest, WatchApplicationResponse, WatchMyApplicationsRequest, WatchMyApplicationsResponse,
    application_lists_service_server::ApplicationListsService,
};
use onewindow_server::FieldErrors;
use sqlx::{Postgres, Sqlite};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    query::{decode_token, page_size, paginate, status_code, summary_pb},
    sql::{ListRow, ListSql, MineQuery, QueueQuery},
};
use crate::domain::APPLICATION;

/// Reads one application as `GetApplication` answers it, with its read rule (NOT_FOUND, PERMISSION_DENIED).
#[async_trait]
pub trait ReadApplication: Send + Sync + 'static {
    async fn read(&self, principal: &Principal, id: Uuid) -> Result<pb::Application, Status>;
}

pub struct ListsApi {
    pub(crate) read_model: ReadModel,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) reader: Arc<dyn ReadApplication>,
    /// Watch streams end with the server.
    pub(crate) shutdown: CancellationToken,
    /// What is overdue is decided against it.
    pub(crate) clock: Arc<dyn onewindow_server::Clock>,
}

fn unavailable(error: sqlx::Error) -> Status {
    tracing::error!(%error, "the application list could not be read");
    Status::unavailable("the list is unavailable, try again")
}

/// One read of the read model, on whichever backend the service runs.
macro_rules! read_model {
    ($db:expr, $method:ident ( $($arg:expr),* )) => {
        match $db {
            Database::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(unavailable)?;
                Postgres::$method(&mut conn, $($arg),*).await.map_err(unavailable)
            }
            Database::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(unavailable)?;
                Sqlite::$method(&mut conn, $($arg),*).await.map_err(unavailable)
            }
        }
    };
}

fn parse_id(field: &str, raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldErrors::one(field, "must be a UUID"))
}

/// The applications `events` are about, in the caller's organisation, each once.
fn applications_in(events: &Applied, principal: &Principal) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = events
        .iter()
        .filter(|e| e.stream.org == principal.org && e.stream.stream_type == APPLICATION)
        .filter_map(|e| Uuid::parse_str(&e.stream.stream_id).ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The applications `principal` created in `events`.
fn created_by(events: &Applied, principal: &Principal) -> Vec<Uuid> {
    let applicant = principal.user_id.to_string();
    events
        .iter()
        .filter(|e| e.event_type == "application.created" && e.stream.org == principal.org)
        .filter(|e| e.payload.get("applicant_id").and_then(|v| v.as_str()) == Some(applicant.as_str()))
        .filter_map(|e| Uuid::parse_str(&e.stream.stream_id).ok())
        .collect()
}

type WatchStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The read model's queries, on whichever backend the service runs.
#[derive(Clone)]
pub struct ReadModel {
    pub(crate) runner: Arc<ProjectionRunner>,
}

impl ReadModel {
    async fn mine(&self, query: &MineQuery) -> Result<Vec<ListRow>, Status> {
        read_model!(self.runner.db().database(), mine(query))
    }

    async fn queue(&self, query: &QueueQuery) -> Result<Vec<ListRow>, Status> {
        read_model!(self.runner.db().database(), queue(query))
    }

    async fn one(&self, principal: &Principal, id: Uuid) -> Result<Option<ListRow>, Status> {
        read_model!(self.runner.db().database(), one(principal.org.as_str(), id))
    }

    async fn own_ids(&self, principal: &Principal) -> Result<Vec<Uuid>, Status> {
        read_model!(self.runner.db().database(), own_ids(principal.org.as_str(), principal.user_id))
    }
}

#[tonic::async_trait]
impl ApplicationListsService for ListsApi {
    async fn list_my_applications(
        &self,
        request: Request<ListMyApplicationsRequest>,
    ) -> Result<Response<ListMyApplicationsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let body = request.get_ref();
        let mut errors = FieldErrors::new();
        let size = page_size(&mut errors, body.page_size);
        let after = decode_token(&mut errors, &body.page_token);
        let status = status_code(body.status);
        errors.check(
            status.is_some() || body.status == pb::ApplicationStatus::Unspecified as i32,
            "status",
            "is not an application status",
        );
        errors.into_result()?;

        let query = MineQuery {
            org_id: principal.org.to_string(),
            applicant_id: principal.user_id,
            status: status.map(str::to_owned),
            after,
            limit: size + 1,
        };
        let rows = self.read_model.mine(&query).await?;
        let (rows, next_page_token) = paginate(rows, size, |row| row.created_at_us);
        let now = self.clock.now().timestamp_micros();
        Ok(Response::new(ListMyApplicationsResponse {
            applications: rows.iter().map(|row| summary_pb(row, now)).collect(),
            next_page_token,
        }))
    }

    async fn list_queue(&self, request: Request<ListQueueRequest>) -> Result<Response<ListQueueResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let body = request.get_ref();
        let mut errors = FieldErrors::new();
        let size = page_size(&mut errors, body.page_size);
        let after = decode_token(&mut errors, &body.page_token);
        let office = match body.office.trim() {
            "" => principal.department.clone(),
            named => named.to_owned(),
        };
        errors.check(!office.is_empty(), "office", "is required: your account names no department");
        let mut statuses = Vec::new();
        for value in &body.statuses {
            match status_code(*value) {
                Some("saved") => {
                    errors.add("statuses", "drafts are in no queue");
                }
                Some(code) => statuses.push(code.to_owned()),
                None => {
                    errors.add("statuses", "lists a value that is not an application status");
                }
            }
        }
        let executor_id = match body.executor_id.trim() {
            "" => None,
            raw => {
                let parsed = Uuid::parse_str(raw).ok();
                errors.check(parsed.is_some(), "executor_id", "must be a UUID");
                parsed
            }
        };
        errors.into_result()?;

        let now = self.clock.now().timestamp_micros();
        let service_code = Some(body.service_code.trim()).filter(|code| !code.is_empty()).map(str::to_owned);
        let query = QueueQuery {
            org_id: principal.org.to_string(),
            office,
            service_code,
            statuses,
            overdue_at_us: body.overdue_only.then_some(now),
            executor_id,
            delayed_only: body.delayed_only,
            after,
            limit: size + 1,
        };
        let rows = self.read_model.queue(&query).await?;
        // Every row of a queue was submitted; the key is never absent.
        let (rows, next_page_token) = paginate(rows, size, |row| row.submitted_at_us.unwrap_or_default());
        Ok(Response::new(ListQueueResponse {
            applications: rows.iter().map(|row| summary_pb(row, now)).collect(),
            next_page_token,
        }))
    }

    type WatchApplicationStream = WatchStream<WatchApplicationResponse>;

    async fn watch_application(
        &self,
        request: Request<WatchApplicationRequest>,
    ) -> Result<Response<Self::WatchApplicationStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let id = parse_id("application_id", &request.get_ref().application_id)?;
        // Subscribed before the first read: a change committed in between is told, at worst twice.
        let mut applied = self.read_model.runner.subscribe().await;
        let first = self.reader.read(&principal, id).await?;
        let reader = self.reader.clone();
        let shutdown = self.shutdown.clone();
        let (sender, receiver) = mpsc::channel(16);
        tokio::spawn(async move {
            let mut sent_version = first.version;
            if sender.send(Ok(WatchApplicationResponse { application: Some(first) })).await.is_err() {
                return;
            }
            loop {
                let changed = tokio::select! {
                    _ = sender.closed() => return,
                    _ = shutdown.cancelled() => return,
                    received = applied.recv() => match received {
                        Ok(events) => applications_in(&events, &principal).contains(&id),
                        // Fell behind: whatever happened, the current state says it.
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => return,
                    },
                };
                if !changed {
                    continue;
                }
                let answer = match reader.read(&principal, id).await {
                    Ok(application) if application.version <= sent_version => continue,
                    Ok(application) => {
                        sent_version = application.version;
                        Ok(WatchApplicationResponse { application: Some(application) })
                    }
                    // Deleted (a draft) or no longer readable: say so and end.
                    Err(status) => Err(status),
                };
                let last = answer.is_err();
                if sender.send(answer).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver)) as Self::WatchApplicationStream))
    }

    type WatchMyApplicationsStream = WatchStream<WatchMyApplicationsResponse>;

    async fn watch_my_applications(
        &self,
        request: Request<WatchMyApplicationsRequest>,
    ) -> Result<Response<Self::WatchMyApplicationsStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let mut applied = self.read_model.runner.subscribe().await;
        // The version last told of each own application (0: none told yet).
        let mut own: HashMap<Uuid, i64> =
            self.read_model.own_ids(&principal).await?.into_iter().map(|id| (id, 0)).collect();
        let read_model = self.read_model.clone();
        let (shutdown, clock) = (self.shutdown.clone(), self.clock.clone());
        let (sender, receiver) = mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let ids = tokio::select! {
                    _ = sender.closed() => return,
                    _ = shutdown.cancelled() => return,
                    received = applied.recv() => match received {
                        Ok(events) => {
                            for id in created_by(&events, &principal) {
                                own.entry(id).or_insert(0);
                            }
                            applications_in(&events, &principal)
                        }
                        Err(RecvError::Lagged(_)) => own.keys().copied().collect(),
                        Err(RecvError::Closed) => return,
                    },
                };
                let ids: Vec<Uuid> = ids.into_iter().filter(|id| own.contains_key(id)).collect();
                for id in ids {
                    let answer = match read_model.one(&principal, id).await {
                        Ok(Some(row)) if own.get(&id).is_some_and(|told| *told >= row.version) => continue,
                        Ok(Some(row)) => {
                            own.insert(id, row.version);
                            let now = clock.now().timestamp_micros();
                            Ok(WatchMyApplicationsResponse { application: Some(summary_pb(&row, now)), removed: false })
                        }
                        Ok(None) => {
                            own.remove(&id);
                            let gone = pb::ApplicationSummary { id: id.to_string(), ..Default::default() };
                            Ok(WatchMyApplicationsResponse { application: Some(gone), removed: true })
                        }
                        Err(status) => Err(status),
                    };
                    if sender.send(answer).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver)) as Self::WatchMyApplicationsStream))
    }
}
