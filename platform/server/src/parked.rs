//! `ParkedEventsService`: the events consumers gave up on, for the administrators of their organisation, listed
//! and re-driven through the consumer that parked them. Every consumer a process runs is known here
//! ([`Consumers`], filled by [`crate::ServiceContext::workers_keeping_private`]), so the embedded mode answers for
//! all six services and a distributed process for its own.

use std::sync::{Arc, Mutex};

use onewindow_auth::{Authenticator, Principal};
use onewindow_bus::{
    EventHandler,
    parked::{self, Parked, RedriveError},
};
use onewindow_eventlog::EventStore;
use onewindow_proto::operations::v1::{
    self as pb,
    parked_events_service_server::{ParkedEventsService, ParkedEventsServiceServer, SERVICE_NAME},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{Clock, FieldErrors, Grpc, store_status};

/// One consumer a process runs: the service it belongs to, that service's log (where it parks), its handler.
#[derive(Clone)]
struct Consumer {
    service: &'static str,
    store: Arc<dyn EventStore>,
    handler: Arc<dyn EventHandler>,
}

/// The consumers of a process, shared by its services' contexts.
#[derive(Default)]
pub struct Consumers(Mutex<Vec<Consumer>>);

impl Consumers {
    pub(crate) fn add(&self, service: &'static str, store: Arc<dyn EventStore>, handler: Arc<dyn EventHandler>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(Consumer { service, store, handler });
    }

    fn all(&self) -> Vec<Consumer> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Adds `ParkedEventsService` over `consumers` to `grpc`.
pub fn register(grpc: &mut Grpc, consumers: Arc<Consumers>, clock: Arc<dyn Clock>) {
    let api = ParkedEventsApi { consumers, auth: grpc.auth.clone(), clock };
    grpc.routes.add_service(ParkedEventsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
}

struct ParkedEventsApi {
    consumers: Arc<Consumers>,
    auth: Arc<Authenticator>,
    clock: Arc<dyn Clock>,
}

fn parked_pb(service: &str, parked: &Parked) -> pb::ParkedEvent {
    use onewindow_proto::timestamp;
    let event = parked.event.as_ref();
    pb::ParkedEvent {
        service: service.to_owned(),
        consumer: parked.consumer.clone(),
        event_id: event.map(|e| e.id.to_string()).unwrap_or_default(),
        event_type: event.map(|e| e.event_type.clone()).unwrap_or_default(),
        stream: event.map(|e| format!("{}/{}", e.stream_type, e.stream_id)).unwrap_or_default(),
        application_id: parked.application_id().unwrap_or_default(),
        reason: parked.reason.clone(),
        parked_at: parked.parked_at.map(timestamp),
        attempts: i32::try_from(parked.attempts).unwrap_or(i32::MAX),
        redriven: parked.redriven_at.is_some(),
        redriven_at: parked.redriven_at.map(timestamp),
    }
}

impl ParkedEventsApi {
    /// Each service's log once (several consumers of a service park in the same log).
    fn logs(&self) -> Vec<(&'static str, Arc<dyn EventStore>)> {
        let mut logs: Vec<(&'static str, Arc<dyn EventStore>)> = Vec::new();
        for consumer in self.consumers.all() {
            if !logs.iter().any(|(service, _)| *service == consumer.service) {
                logs.push((consumer.service, consumer.store));
            }
        }
        logs
    }
}

#[tonic::async_trait]
impl ParkedEventsService for ParkedEventsApi {
    async fn list_parked_events(
        &self,
        request: Request<pb::ListParkedEventsRequest>,
    ) -> Result<Response<pb::ListParkedEventsResponse>, Status> {
        let principal: Principal = self.auth.authenticate(&request).await?;
        let include_redriven = request.get_ref().include_redriven;
        let mut listed = Vec::new();
        for (service, store) in self.logs() {
            for parked in parked::list(store.as_ref(), &principal.org).await.map_err(store_status)? {
                if include_redriven || parked.redriven_at.is_none() {
                    listed.push((parked.parked_at, parked_pb(service, &parked)));
                }
            }
        }
        listed.sort_by_key(|(at, _)| *at);
        let parked_events = listed.into_iter().map(|(_, parked)| parked).collect();
        Ok(Response::new(pb::ListParkedEventsResponse { parked_events }))
    }

    async fn redrive_parked_event(
        &self,
        request: Request<pb::RedriveParkedEventRequest>,
    ) -> Result<Response<pb::RedriveParkedEventResponse>, Status> {
        let principal: Principal = self.auth.authenticate(&request).await?;
        let body = request.get_ref();
        let event_id = Uuid::parse_str(body.event_id.trim());
        let consumer = self
            .consumers
            .all()
            .into_iter()
            .find(|c| c.service == body.service.trim() && c.handler.name() == body.consumer.trim());
        let mut errors = FieldErrors::new();
        errors.check(event_id.is_ok(), "event_id", "must be the parked event's id (a UUID)");
        errors.check(consumer.is_some(), "consumer", "names no consumer of that service in this process");
        errors.into_result()?;
        let (Ok(event_id), Some(consumer)) = (event_id, consumer) else {
            return Err(Status::invalid_argument("invalid request"));
        };
        let actor = format!("user:{}", principal.user_id);
        let now = self.clock.now();
        let outcome =
            parked::redrive(consumer.store.as_ref(), &consumer.handler, &principal.org, event_id, &actor, now).await;
        match outcome {
            Ok(parked) => {
                let parked_event = Some(parked_pb(consumer.service, &parked));
                Ok(Response::new(pb::RedriveParkedEventResponse { parked_event }))
            }
            Err(RedriveError::NotFound) => Err(Status::not_found("no such parked event in your organisation")),
            Err(RedriveError::AlreadyRedriven) => Err(Status::failed_precondition("the event was re-driven already")),
            Err(RedriveError::Store(error)) => Err(store_status(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::HashMap,
        sync::atomic::{AtomicBool, Ordering},
        time::Duration,
    };

    use chrono::Utc;
    use onewindow_auth::{Role, SigningKeyPair, StaticKeySource, TokenIssuer};
    use onewindow_bus::{Bus, HandleError, LogTailBus, Subscription};
    use onewindow_eventlog::{Commit, EventMetadata, InboxMark, NewEvent, OrgId, RecordedEvent, StreamRef};
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::ManualClock;

    /// Counts each submission once (its inbox mark commits with the count), and refuses every event while the
    /// cause is not repaired, as a consumer refuses an event its data cannot take yet.
    struct Counting {
        store: Arc<dyn EventStore>,
        repaired: AtomicBool,
    }

    #[tonic::async_trait]
    impl EventHandler for Counting {
        fn name(&self) -> &'static str {
            "counting-applications"
        }

        fn subscription(&self) -> Subscription {
            Subscription { service: "applications", event_types: vec!["application.submitted"] }
        }

        async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
            if !self.repaired.load(Ordering::SeqCst) {
                return Err(HandleError::Poison(anyhow::anyhow!("the service's route names no approver")));
            }
            let stream = StreamRef::new(&event.stream.org, "count", "submissions");
            let version = self.store.stream_version(&stream).await.map_err(|e| HandleError::Transient(e.into()))?;
            let counted = NewEvent {
                id: Uuid::now_v7(),
                event_type: "count.incremented".into(),
                schema_version: 1,
                payload: json!({ "event": event.id }),
                metadata: event.metadata.clone(),
            };
            let mark = InboxMark { consumer: self.name().into(), event_id: event.id };
            let commit = Commit::append(stream, version, vec![counted]).with_inbox(mark);
            self.store.commit(commit).await.map_err(|e| HandleError::Transient(e.into()))?;
            Ok(())
        }
    }

    fn submitted(application_id: Uuid) -> NewEvent {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: "application.submitted".into(),
            schema_version: 1,
            payload: json!({ "application_id": application_id }),
            metadata: EventMetadata {
                occurred_at: Utc::now(),
                actor: "test".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                trace_context: None,
            },
        }
    }

    /// `message` with a token of `who`.
    fn signed<T>(issuer: &TokenIssuer, who: &Principal, message: T) -> Request<T> {
        let (token, _) = issuer.issue(who, Utc::now()).expect("a token");
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ASCII"));
        request
    }

    #[tokio::test]
    async fn a_parked_event_is_listed_then_re_driven_once_after_the_repair() {
        let kaznu = OrgId::parse("kaznu").expect("org");
        let applications = onewindow_eventlog::open("sqlite::memory:").await.expect("applications' log");
        let own = onewindow_eventlog::open("sqlite::memory:").await.expect("the consumer's log");
        let application_id = Uuid::now_v7();
        let stream = StreamRef::new(&kaznu, "application", application_id.to_string());
        applications.commit(Commit::append(stream, 0, vec![submitted(application_id)])).await.expect("written");

        // The consumer runs on the embedded mode's bus and parks the event.
        let handler = Arc::new(Counting { store: own.clone(), repaired: AtomicBool::new(false) });
        let bus = LogTailBus::new(HashMap::from([("applications", applications.clone())]));
        let shutdown = CancellationToken::new();
        let worker = bus.consume(handler.clone(), own.clone(), shutdown.clone());
        let running = tokio::spawn(worker.task);
        let consumers = Arc::new(Consumers::default());
        consumers.add("counter", own.clone(), handler.clone());

        let pair = SigningKeyPair::generate("test-key").expect("a key pair");
        let issuer = TokenIssuer::new(&pair, chrono::Duration::minutes(5)).expect("an issuer");
        let api = ParkedEventsApi {
            consumers,
            auth: Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()]))),
            clock: Arc::new(ManualClock::new(Utc::now())),
        };
        let as_role = |role: Role, org: &str| Principal {
            user_id: Uuid::now_v7(),
            org: OrgId::parse(org).expect("org"),
            roles: vec![role],
            full_name: "Test".into(),
            department: String::new(),
            position: String::new(),
        };
        let request = |who: &Principal, message| signed(&issuer, who, message);
        let redrive_request = |who: &Principal, message| signed(&issuer, who, message);
        let admin = as_role(Role::Admin, "kaznu");
        let list = |who: &Principal, include_redriven| {
            api.list_parked_events(request(who, pb::ListParkedEventsRequest { include_redriven }))
        };

        let mut parked = Vec::new();
        for _ in 0..200 {
            parked = list(&admin, false).await.expect("listed").into_inner().parked_events;
            if !parked.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(parked.len(), 1, "the event is parked and listed");
        let listed = &parked[0];
        assert_eq!((listed.service.as_str(), listed.consumer.as_str()), ("counter", "counting-applications"));
        assert_eq!(listed.application_id, application_id.to_string());
        assert_eq!((listed.event_type.as_str(), listed.attempts), ("application.submitted", 1));
        assert!(listed.reason.contains("names no approver") && listed.parked_at.is_some() && !listed.redriven);
        let elsewhere = list(&as_role(Role::Admin, "kaznmu"), false).await.expect("listed").into_inner();
        assert!(elsewhere.parked_events.is_empty(), "another organisation's administrators see nothing");

        let redrive = |who: &Principal| {
            let message = pb::RedriveParkedEventRequest {
                service: "counter".into(),
                consumer: "counting-applications".into(),
                event_id: listed.event_id.clone(),
            };
            api.redrive_parked_event(redrive_request(who, message))
        };
        // Before the repair: the re-drive fails again, and says so.
        let again = redrive(&admin).await.expect("re-driven").into_inner().parked_event.expect("the record");
        assert_eq!((again.attempts, again.redriven), (2, false));
        // After it: handled, once.
        handler.repaired.store(true, Ordering::SeqCst);
        let done = redrive(&admin).await.expect("re-driven").into_inner().parked_event.expect("the record");
        assert!(done.redriven && done.redriven_at.is_some(), "{done:?}");
        let twice = redrive(&admin).await.expect_err("a second re-drive");
        assert_eq!(twice.code(), tonic::Code::FailedPrecondition);
        let event = parked::list(own.as_ref(), &kaznu).await.expect("list")[0].event.clone().expect("the event");
        handler.handle(&event.into_recorded(None)).await.expect("a late redelivery is a no-op");
        let counted = own.read_stream(&StreamRef::new(&kaznu, "count", "submissions")).await.expect("count");
        assert_eq!(counted.len(), 1, "the effect happened exactly once");
        assert!(list(&admin, false).await.expect("listed").into_inner().parked_events.is_empty());
        assert_eq!(list(&admin, true).await.expect("listed").into_inner().parked_events.len(), 1);

        let wrong = api
            .redrive_parked_event(redrive_request(&admin, pb::RedriveParkedEventRequest::default()))
            .await
            .expect_err("an empty request");
        assert!(wrong.code() == tonic::Code::InvalidArgument && wrong.message().contains("event_id"));
        shutdown.cancel();
        let _ = running.await;
    }
}
