//! Lists of applications from the `application_list` read model: rebuilt from scratch equal to the live one (on
//! PostgreSQL and SQLite), paging and filters over gRPC, and the watch streams receiving changes.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use onewindow::walkthrough::{authed, demo_login, sign_in};
use onewindow_applications::lists::{ApplicationList, ListRow};
use onewindow_eventlog::{
    Commit, Database, EventMetadata, EventStore, NewEvent, OrgId, Position, StoreError, StreamRef,
};
use onewindow_projections::{ProjectionRunner, ReadModelDb, rebuild};
use onewindow_proto::applications::v1::{
    AcceptApplicationRequest, ApplicationStatus, CreateApplicationRequest, Language, ListMyApplicationsRequest,
    ListQueueRequest, SubmitApplicationRequest, WatchApplicationRequest, WatchMyApplicationsRequest,
    application_lists_service_client::ApplicationListsServiceClient,
    applications_service_client::ApplicationsServiceClient,
};
use onewindow_tests::{fresh_postgres_database, fresh_sqlite_database};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use uuid::Uuid;

use super::embedded::EmbeddedSystem;

/// How long an eventually consistent read may take to show a change before the test gives up (not a speed claim:
/// the read model usually follows within milliseconds).
const PATIENCE: Duration = Duration::from_secs(30);

async fn eventually<T, F, Fut>(what: &str, mut step: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = step().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn metadata(at: DateTime<Utc>) -> EventMetadata {
    EventMetadata {
        occurred_at: at,
        actor: "test".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    }
}

fn event(event_type: &str, payload: Value) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: metadata(Utc::now()),
    }
}

/// The life of one synthetic application, encoded as the applications service records it.
fn history(id: Uuid, n: usize) -> Vec<NewEvent> {
    use onewindow_contracts::applications::{ApplicationEvent as E, Created, Draft, ServiceSnapshot, Submitted};
    let applicant = Uuid::from_u128(n as u128 % 7 + 1);
    let executor = Uuid::from_u128(n as u128 % 3 + 100);
    let office = ["registrar", "student-office", "accounting"][n % 3];
    let number = format!("T-2026-{n:06}");
    let service = ServiceSnapshot {
        code: format!("service-{}", n % 4),
        version: 1,
        name_kk: "қызмет".into(),
        name_ru: "услуга".into(),
        name_en: "service".into(),
        office: office.into(),
        ..ServiceSnapshot::default()
    };
    let mut life = vec![E::Created(Box::new(Created {
        application_id: id,
        number: number.clone(),
        applicant_id: applicant,
        applicant_name: format!("Applicant {n}"),
        service: service.clone(),
        draft: Draft { document_language: Some(onewindow_contracts::Language::Kk), ..Draft::default() },
        applicant: Default::default(),
        planned_at: None,
    }))];
    match n % 6 {
        // A draft, saved twice.
        0 => life.push(E::DraftUpdated {
            application_id: id,
            draft: Draft { reason: "again".into(), ..Draft::default() },
            planned_at: None,
        }),
        // A draft deleted.
        1 => life.push(E::DraftDeleted { application_id: id }),
        _ => {
            let planned = Utc::now() + chrono::Duration::hours(n as i64 - 100);
            life.push(E::Submitted(Box::new(Submitted {
                application_id: id,
                number,
                applicant_id: applicant,
                applicant_name: format!("Applicant {n}"),
                service_code: service.code.clone(),
                service_version: 1,
                service_name: "service".into(),
                route: Vec::new(),
                issues_document: String::new(),
                document_language: None,
                email: String::new(),
                service_names: Default::default(),
                reason: String::new(),
                office: office.into(),
                planned_at: Some(planned),
            })));
            if n % 6 >= 3 {
                life.push(E::Accepted {
                    application_id: id,
                    executor_id: executor,
                    executor_name: "Executor".into(),
                    accepted_by_id: executor,
                    accepted_by_name: "Executor".into(),
                });
                life.push(E::Commented {
                    application_id: id,
                    comment_id: Uuid::now_v7(),
                    author_id: executor,
                    author_name: "Executor".into(),
                    author_role: onewindow_contracts::applications::CommentAuthor::Staff,
                    text: "hello".into(),
                });
            }
            if n % 6 == 5 {
                life.push(E::Completed { application_id: id, completed_by_name: String::new() });
                life.push(E::Issued {
                    application_id: id,
                    document_id: None,
                    document_number: "X".into(),
                    issued_by_name: String::new(),
                });
            }
        }
    }
    life.iter().map(|e| onewindow_eventlog::encode(e, &metadata(Utc::now())).expect("encodes")).collect()
}

/// Commits the histories of `count` applications in two organisations, a few events per commit, with a counter
/// stream's events between them (events the projection passes over); the stream committed last.
async fn record_histories(log: &dyn EventStore, count: usize) -> StreamRef {
    let mut last = None;
    for n in 0..count {
        let org = OrgId::parse(if n % 2 == 0 { "kaznu" } else { "kaznmu" }).expect("org");
        let id = Uuid::now_v7();
        let stream = StreamRef::new(&org, "application", id.to_string());
        let counter = StreamRef::new(&org, "application_number", "2026");
        let taken = log.stream_version(&counter).await.expect("counter");
        let mut version = 0;
        for (i, chunk) in history(id, n).chunks(2).enumerate() {
            let mut commit = Commit::append(stream.clone(), version, chunk.to_vec());
            if i == 0 {
                let number = event("application_number.taken", json!({ "application_id": id }));
                commit.appends.push(onewindow_eventlog::StreamAppend {
                    stream: counter.clone(),
                    expected_version: taken,
                    events: vec![number],
                });
            }
            log.commit(commit).await.expect("commit");
            version += chunk.len() as i64;
        }
        last = Some(stream);
    }
    last.expect("at least one application")
}

async fn rows(db: &ReadModelDb) -> Vec<ListRow> {
    const ALL: &str = "SELECT * FROM application_list ORDER BY id";
    match db.database() {
        Database::Postgres(pool) => sqlx::query_as(ALL).fetch_all(pool).await.expect("rows"),
        Database::Sqlite(pool) => sqlx::query_as(ALL).fetch_all(pool).await.expect("rows"),
    }
}

/// Where the last event of the last commit stands (commits were made one after the other).
async fn last_position(log: &dyn EventStore, last: &StreamRef) -> Position {
    let events = log.read_stream(last).await.expect("read");
    events.last().expect("the last commit's events").position
}

/// Waits until the checkpoint has passed `last`. (The log's visible head is no target on PostgreSQL: a
/// transaction elsewhere in the cluster may hold the read horizon back for a while.)
async fn caught_up(db: &ReadModelDb, last: Position) {
    eventually("the projection to catch up", || async {
        let at = db.checkpoint("application_list").await.ok().flatten().map(|c| c.position);
        at.is_some_and(|at| at >= last).then_some(())
    })
    .await;
}

async fn rebuilt_equals_live(backend: &str, log: Arc<dyn EventStore>) {
    let shutdown = CancellationToken::new();
    let runner = ProjectionRunner::new(Arc::new(ApplicationList), log.clone()).expect("runner");
    let live = tokio::spawn(runner.worker(shutdown.clone()).task);
    let last_stream = record_histories(log.as_ref(), 120).await;
    let last = last_position(log.as_ref(), &last_stream).await;
    caught_up(runner.db(), last).await;
    let before = rows(runner.db()).await;

    // 120 applications, every sixth a deleted draft.
    assert_eq!(before.len(), 100, "{backend}: deleted drafts leave no row");
    let statuses: BTreeSet<&str> = before.iter().map(|row| row.status.as_str()).collect();
    assert_eq!(statuses, BTreeSet::from(["in_work", "issued", "saved", "submitted"]), "{backend}");
    assert_eq!(before.iter().filter(|row| row.org_id == "kaznu").count(), 60, "{backend}: both organisations");
    assert!(before.iter().all(|row| row.version >= 2), "{backend}: every application had more than its creation");

    // From scratch, while the live runner keeps running beside it.
    let mut seen = Vec::new();
    let report = rebuild(&ApplicationList, log.clone(), |progress| seen.push(progress.events)).await.expect("rebuilt");
    caught_up(runner.db(), last).await;
    let after = rows(runner.db()).await;
    assert_eq!(after, before, "{backend}: the rebuilt read model equals the live one");
    let total = runner.db().count_events().await.expect("count");
    let passed = runner.db().checkpoint("application_list").await.expect("checkpoint").expect("built").events;
    assert_eq!(passed, total, "{backend}: every event of the log passed once since the rebuild began");
    if backend == "sqlite" {
        assert_eq!((report.events, report.rows), (total, 100), "{backend}: the rebuild went to the end");
    } else {
        // A transaction elsewhere in the cluster may hold PostgreSQL's read horizon back and end the rebuild's
        // replay early; the live runner finishes it (checked above).
        assert!(report.events <= total && report.rows <= 100, "{backend}: {report:?}");
    }
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && !seen.is_empty(), "{backend}: progress only grows");

    shutdown.cancel();
    live.await.expect("joined").expect("the runner stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_model_rebuilt_from_scratch_equals_the_live_one_on_postgres_and_sqlite() {
    onewindow_tests::init_test_logging();
    let sqlite = onewindow_eventlog::open(&fresh_sqlite_database().expect("sqlite dir")).await.expect("sqlite");
    rebuilt_equals_live("sqlite", sqlite).await;
    let postgres_url = fresh_postgres_database().await.expect("PostgreSQL is required");
    let postgres = onewindow_eventlog::open(&postgres_url).await.expect("postgres");
    rebuilt_equals_live("postgres", postgres).await;
}

#[derive(Clone)]
struct Clients {
    applications: ApplicationsServiceClient<Channel>,
    lists: ApplicationListsServiceClient<Channel>,
    student: String,
    registrar: String,
}

async fn clients(system: &EmbeddedSystem) -> Clients {
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let accounts = system.data_dir.join("demo-accounts.txt");
    let student = demo_login(&accounts, "kaznu", "student").expect("student");
    let registrar = demo_login(&accounts, "kaznu", "registrar").expect("registrar");
    Clients {
        applications: ApplicationsServiceClient::new(channel.clone()),
        lists: ApplicationListsServiceClient::new(channel),
        student: sign_in(&system.url, "kaznu", &student).await.expect("student signs in"),
        registrar: sign_in(&system.url, "kaznu", &registrar).await.expect("registrar signs in"),
    }
}

impl Clients {
    async fn create(&mut self) -> String {
        let request = CreateApplicationRequest {
            service_code: "certificate-of-study".into(),
            document_language: Language::Kk as i32,
            reason: "to be presented at the place of demand".into(),
            email: "student@example.kz".into(),
            ..Default::default()
        };
        let created = self.applications.create_application(authed(request, &self.student).expect("request")).await;
        created.expect("created").into_inner().application.expect("an application").id
    }

    async fn submit(&mut self, id: &str) {
        let request =
            SubmitApplicationRequest { application_id: id.into(), agreed_to_terms: true, ..Default::default() };
        self.applications
            .submit_application(authed(request, &self.student).expect("request"))
            .await
            .expect("submitted");
    }

    async fn mine(&mut self, status: ApplicationStatus, page_size: i32, page_token: &str) -> (Vec<String>, String) {
        let request = ListMyApplicationsRequest { status: status as i32, page_size, page_token: page_token.into() };
        let page = self.lists.list_my_applications(authed(request, &self.student).expect("request")).await;
        let page = page.expect("listed").into_inner();
        (page.applications.into_iter().map(|a| a.id).collect(), page.next_page_token)
    }

    async fn queue(&mut self, request: ListQueueRequest) -> (Vec<String>, String) {
        let page = self.lists.list_queue(authed(request, &self.registrar).expect("request")).await.expect("listed");
        let page = page.into_inner();
        (page.applications.into_iter().map(|a| a.id).collect(), page.next_page_token)
    }
}

/// Sets a planned date in the past on `id` as staff would, by appending the event to its stream.
async fn plan_in_the_past(log: &dyn EventStore, id: &str) {
    let org = OrgId::parse("kaznu").expect("org");
    let stream = StreamRef::new(&org, "application", id);
    loop {
        let version = log.stream_version(&stream).await.expect("version");
        let planned = event(
            "application.planned_date_set",
            json!({ "application_id": id, "planned_at": "2026-01-05T09:00:00Z", "set_by_id": Uuid::nil(),
                    "set_by_name": "Registrar", "remark": "" }),
        );
        match log.commit(Commit::append(stream.clone(), version, vec![planned])).await {
            Ok(_) => return,
            // Routing's reaction got there first: read the version again.
            Err(StoreError::Concurrency { .. }) => continue,
            Err(other) => panic!("planning failed: {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_and_filter_and_the_watch_streams_receive_each_change() {
    let system = EmbeddedSystem::start().await;
    let mut c = clients(&system).await;

    let watch = WatchMyApplicationsRequest {};
    let mut mine_watch =
        c.lists.watch_my_applications(authed(watch, &c.student).expect("request")).await.expect("watch").into_inner();

    // Five applications; the first three submitted, in order.
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(c.create().await);
    }
    for id in &created[..3] {
        c.submit(id).await;
    }

    // The applicant's list: newest created first, two at a time.
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    eventually("the five applications, three submitted, in the list", || {
        let mut c = c.clone();
        async move {
            let all = c.mine(ApplicationStatus::Unspecified, 100, "").await.0.len();
            let drafts = c.mine(ApplicationStatus::Saved, 100, "").await.0.len();
            (all == 5 && drafts == 2).then_some(())
        }
    })
    .await;
    let mut listed = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let (ids, next) = c.mine(ApplicationStatus::Unspecified, 2, &token).await;
        pages += 1;
        listed.extend(ids);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    assert_eq!((listed, pages), (newest_first.clone(), 3), "every application once, newest first, in pages of two");
    let (drafts, _) = c.mine(ApplicationStatus::Saved, 0, "").await;
    assert_eq!(drafts, newest_first[..2].to_vec(), "filtered by status");

    // The registrar's queue (the office of the certificate of study is the registrar's department).
    let submitted_in_order: Vec<String> = created[..3].to_vec();
    let (queue, _) = c.queue(ListQueueRequest::default()).await;
    assert_eq!(queue, submitted_in_order, "drafts are in no queue; oldest submitted first");
    let (first_two, token) = c.queue(ListQueueRequest { page_size: 2, ..Default::default() }).await;
    let (rest, last) = c.queue(ListQueueRequest { page_size: 2, page_token: token, ..Default::default() }).await;
    assert_eq!((first_two.len(), rest.len(), last.as_str()), (2, 1, ""));
    assert_eq!([first_two, rest].concat(), submitted_in_order);
    let (none, _) = c.queue(ListQueueRequest { office: "accounting".into(), ..Default::default() }).await;
    assert!(none.is_empty(), "another office's queue");
    let (none, _) = c.queue(ListQueueRequest { service_code: "duplicate-diploma".into(), ..Default::default() }).await;
    assert!(none.is_empty(), "another service");
    let issued_only = ListQueueRequest { statuses: vec![ApplicationStatus::Issued as i32], ..Default::default() };
    assert!(c.queue(issued_only).await.0.is_empty(), "no status matches");
    let open = vec![ApplicationStatus::Submitted as i32, ApplicationStatus::InWork as i32];
    let (open_ones, _) = c.queue(ListQueueRequest { statuses: open, ..Default::default() }).await;
    assert_eq!(open_ones, submitted_in_order);
    let someone = ListQueueRequest { executor_id: Uuid::now_v7().to_string(), ..Default::default() };
    assert!(c.queue(someone).await.0.is_empty(), "nobody's executor yet");

    // The registrar takes the second one into work: their own queue of it.
    let executor_id = loop {
        let request = AcceptApplicationRequest { application_id: created[1].clone(), ..Default::default() };
        match c.applications.accept_application(authed(request, &c.registrar).expect("request")).await {
            Ok(answer) => break answer.into_inner().application.expect("an application").executor_id,
            // Routing's reaction to the submission landed in between: try again.
            Err(status) if status.code() == tonic::Code::Aborted => continue,
            Err(status) => panic!("accept refused: {status:?}"),
        }
    };
    let theirs = eventually("the executor's queue", || {
        let mut c = c.clone();
        let executor_id = executor_id.clone();
        async move {
            let ids = c.queue(ListQueueRequest { executor_id, ..Default::default() }).await.0;
            (!ids.is_empty()).then_some(ids)
        }
    })
    .await;
    assert_eq!(theirs, vec![created[1].clone()]);

    // Overdue: only the one planned in the past.
    let log = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("applications.db").display()))
        .await
        .expect("applications log");
    plan_in_the_past(log.as_ref(), &created[1]).await;
    let overdue = eventually("the overdue application in the queue", || {
        let mut c = c.clone();
        async move {
            let ids = c.queue(ListQueueRequest { overdue_only: true, ..Default::default() }).await.0;
            (!ids.is_empty()).then_some(ids)
        }
    })
    .await;
    assert_eq!(overdue, vec![created[1].clone()]);

    // Bad requests name their field; the queue is staff's.
    let bad =
        ListQueueRequest { statuses: vec![ApplicationStatus::Saved as i32], page_size: 500, ..Default::default() };
    let refused = c.lists.list_queue(authed(bad, &c.registrar).expect("request")).await.expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("statuses") && refused.message().contains("page_size"), "{refused:?}");
    let as_student = c.lists.list_queue(authed(ListQueueRequest::default(), &c.student).expect("request")).await;
    assert_eq!(as_student.expect_err("refused").code(), tonic::Code::PermissionDenied);

    // The watch of my applications told of each new one, and of each submission.
    let mut told: Vec<(String, ApplicationStatus)> = Vec::new();
    let all_told = |told: &[(String, ApplicationStatus)]| {
        created.iter().all(|id| told.iter().any(|(t, _)| t == id))
            && submitted_in_order.iter().all(|id| told.iter().any(|(t, s)| t == id && *s != ApplicationStatus::Saved))
    };
    while !all_told(&told) {
        let next = tokio::time::timeout(PATIENCE, mine_watch.next()).await.expect("a change is told");
        let change = next.expect("the stream goes on").expect("a change");
        let row = change.application.expect("a row");
        told.push((row.id.clone(), row.status()));
    }
    let told_ids: BTreeSet<&String> = told.iter().map(|(id, _)| id).collect();
    assert_eq!(told_ids, created.iter().collect(), "every own application was told of");

    // Watching one application: now, then its submission.
    let draft = created[4].clone();
    let request = WatchApplicationRequest { application_id: draft.clone() };
    let mut one = c.lists.watch_application(authed(request, &c.student).expect("request")).await.expect("watch");
    let one = one.get_mut();
    let first = one.next().await.expect("the current state").expect("ok").application.expect("an application");
    assert_eq!((first.id.as_str(), first.status()), (draft.as_str(), ApplicationStatus::Saved));
    c.submit(&draft).await;
    let next = tokio::time::timeout(PATIENCE, one.next()).await.expect("the change is pushed");
    let changed = next.expect("the stream goes on").expect("ok").application.expect("an application");
    assert_ne!(changed.status(), ApplicationStatus::Saved, "the watch received the submission");
    assert!(changed.version > first.version);

    // Staff may watch it; another organisation's student finds nothing.
    let staff = WatchApplicationRequest { application_id: created[0].clone() };
    assert!(c.lists.watch_application(authed(staff, &c.registrar).expect("request")).await.is_ok());
    let stranger = demo_login(&system.data_dir.join("demo-accounts.txt"), "kaznmu", "student").expect("student");
    let stranger = sign_in(&system.url, "kaznmu", &stranger).await.expect("signs in");
    let intruder = WatchApplicationRequest { application_id: created[0].clone() };
    let refused = c.lists.watch_application(authed(intruder, &stranger).expect("request")).await;
    assert_eq!(refused.err().map(|s| s.code()), Some(tonic::Code::NotFound));
}

/// Two applications replicas over one PostgreSQL database: a watcher on one hears of commits made through the
/// other (their projection runners share one checkpoint; each tells its own watchers of every event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_on_one_replica_receives_changes_made_through_another() {
    use onewindow::walkthrough::Login;
    use onewindow_identity::{NewAccount, register_account, roles};
    use onewindow_tests::{NatsServer, ServiceProcess};

    onewindow_tests::init_test_logging();
    let nats = NatsServer::start().await.expect("a current nats-server is required");
    let identity_db = fresh_postgres_database().await.expect("PostgreSQL is required");
    let catalog_db = fresh_postgres_database().await.expect("PostgreSQL is required");
    let applications_db = fresh_postgres_database().await.expect("PostgreSQL is required");
    let org = OrgId::parse("kaznu").expect("org");
    let identity_log = onewindow_eventlog::open(&identity_db).await.expect("identity database");
    let password = format!("student-{}", Uuid::now_v7().simple());
    let account = NewAccount {
        org: org.clone(),
        login: "student".into(),
        password: password.clone(),
        full_name: "Aruzhan Serikqyzy Nurlanova".into(),
        roles: roles(&["applicant"]),
        department: String::new(),
        position: String::new(),
        email: "student@kaznu.example.kz".into(),
    };
    register_account(identity_log.as_ref(), account).await.expect("account");
    let catalog_log = onewindow_eventlog::open(&catalog_db).await.expect("catalog database");
    onewindow_catalog::seed_catalog(catalog_log.as_ref(), &org).await.expect("the seeds' catalog");

    let database = |url: &str| ("ONEWINDOW_DATABASE_URL", url.to_owned());
    let mut identity = ServiceProcess::spawn("onewindow-identity", &[database(&identity_db)]).expect("identity");
    identity.wait_serving("onewindow.identity.v1.IdentityService").await.expect("identity serving");
    let shared = |db: &str| {
        vec![database(db), ("ONEWINDOW_NATS_URL", nats.url.clone()), ("ONEWINDOW_IDENTITY_URL", identity.url.clone())]
    };
    let mut catalog = ServiceProcess::spawn("onewindow-catalog", &shared(&catalog_db)).expect("catalog");
    catalog.wait_serving("onewindow.catalog.v1.CatalogService").await.expect("catalog serving");
    let mut env = shared(&applications_db);
    env.push(("ONEWINDOW_CATALOG_URL", catalog.url.clone()));
    let mut one = ServiceProcess::spawn("onewindow-applications", &env).expect("replica one");
    let mut two = ServiceProcess::spawn("onewindow-applications", &env).expect("replica two");
    for replica in [&mut one, &mut two] {
        replica.wait_serving("onewindow.applications.v1.ApplicationListsService").await.expect("serving");
    }

    let student = sign_in(&identity.url, "kaznu", &Login { login: "student".into(), password }).await.expect("token");
    let connect =
        |url: String| async move { Channel::from_shared(url).expect("url").connect().await.expect("connect") };
    let mut watcher = ApplicationListsServiceClient::new(connect(one.url.clone()).await);
    let mut writer = ApplicationsServiceClient::new(connect(two.url.clone()).await);

    let request = authed(WatchMyApplicationsRequest {}, &student).expect("request");
    let mut mine = watcher.watch_my_applications(request).await.expect("watch").into_inner();
    let create = CreateApplicationRequest {
        service_code: "certificate-of-study".into(),
        document_language: Language::Kk as i32,
        reason: "visa".into(),
        email: "student@kaznu.example.kz".into(),
        ..Default::default()
    };
    let created = writer.create_application(authed(create, &student).expect("request")).await;
    let id = created.expect("created through replica two").into_inner().application.expect("an application").id;

    let next = tokio::time::timeout(PATIENCE, mine.next()).await;
    let told = next.expect("replica one told of it").expect("the stream goes on").expect("a change");
    let row = told.application.expect("a row");
    assert_eq!((row.id.as_str(), row.status()), (id.as_str(), ApplicationStatus::Saved));

    let request = authed(WatchApplicationRequest { application_id: id.clone() }, &student).expect("request");
    let mut watched = watcher.watch_application(request).await.expect("watch").into_inner();
    let now = watched.next().await.expect("the current state").expect("ok").application.expect("an application");
    assert_eq!(now.status(), ApplicationStatus::Saved);
    let submit = SubmitApplicationRequest { application_id: id.clone(), agreed_to_terms: true, ..Default::default() };
    writer.submit_application(authed(submit, &student).expect("request")).await.expect("submitted through two");
    let next = tokio::time::timeout(PATIENCE, watched.next()).await.expect("replica one pushed the submission");
    let pushed = next.expect("the stream goes on").expect("ok").application.expect("an application");
    assert_eq!(pushed.status(), ApplicationStatus::Submitted);

    // Both replicas' lists read the one read model.
    let request = authed(ListMyApplicationsRequest::default(), &student).expect("request");
    let listed = watcher.list_my_applications(request).await.expect("listed").into_inner().applications;
    assert_eq!(listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
}

/// A parked event about an application flags it: staff filter their queue by it and the applicant's answer says
/// processing is delayed; an administrator's re-drive through `ParkedEventsService` clears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_event_flags_the_application_until_an_administrator_re_drives_it() {
    use onewindow_bus::{Envelope, parked::ParkedEvent};
    use onewindow_proto::{
        applications::v1::GetApplicationRequest,
        operations::v1::{RedriveParkedEventRequest, parked_events_service_client::ParkedEventsServiceClient},
    };
    let system = EmbeddedSystem::start().await;
    let mut c = clients(&system).await;
    let (delayed, on_time) = (c.create().await, c.create().await);
    c.submit(&delayed).await;
    c.submit(&on_time).await;

    // Routing parks the submission of `delayed`, as its consumer does when it cannot open the sheet: the record
    // in routing's log holds the event as applications wrote it.
    let open = |service: &str| {
        let url = format!("sqlite:{}", system.data_dir.join(format!("{service}.db")).display());
        async move { onewindow_eventlog::open(&url).await.expect("a service's log") }
    };
    let (applications, routing) = (open("applications").await, open("routing").await);
    let org = OrgId::parse("kaznu").expect("org");
    let submitted = applications
        .read_stream(&StreamRef::new(&org, "application", delayed.as_str()))
        .await
        .expect("the application's events")
        .into_iter()
        .find(|e| e.event_type == "application.submitted")
        .expect("submitted");
    let parked = ParkedEvent::Parked {
        consumer: "routing-applications".into(),
        reason: "the route names a post nobody holds".into(),
        event: Box::new(Envelope::from_recorded(&submitted)),
    };
    let record = onewindow_eventlog::encode(&parked, &metadata(Utc::now())).expect("encoded");
    let parked_stream = onewindow_bus::parked::stream(&org, "routing-applications", submitted.id);
    routing.commit(Commit::append(parked_stream, 0, vec![record])).await.expect("parked");

    let get = |token: String, id: String| {
        let mut client = c.applications.clone();
        async move {
            let request = GetApplicationRequest { application_id: id, ..Default::default() };
            client.get_application(authed(request, &token).expect("request")).await.expect("read").into_inner()
        }
    };
    let student = c.student.clone();
    let answer = eventually("the applicant is told processing is delayed", || {
        let get = get(student.clone(), delayed.clone());
        async move { get.await.application.filter(|a| a.processing_delayed) }
    })
    .await;
    assert!(answer.delayed_since.is_some(), "{answer:?}");
    let other = get(c.student.clone(), on_time.clone()).await.application.expect("the other application");
    assert!(!other.processing_delayed, "only the application the event concerns is delayed");
    let delayed_only = ListQueueRequest { delayed_only: true, ..Default::default() };
    let (queue, _) = eventually("staff find it with the filter", || {
        let mut c = c.clone();
        let request = delayed_only.clone();
        async move { Some(c.queue(request).await).filter(|(ids, _)| !ids.is_empty()) }
    })
    .await;
    assert_eq!(queue, std::slice::from_ref(&delayed), "the filter shows the delayed application only");

    // The administrator re-drives it: routing handles the submission (it had, so its inbox makes this a no-op)
    // and the flag goes.
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let admin = demo_login(&system.data_dir.join("demo-accounts.txt"), "kaznu", "admin").expect("admin");
    let admin = sign_in(&system.url, "kaznu", &admin).await.expect("the admin signs in");
    let redrive = RedriveParkedEventRequest {
        service: "routing".into(),
        consumer: "routing-applications".into(),
        event_id: submitted.id.to_string(),
    };
    let mut parked_events = ParkedEventsServiceClient::new(channel);
    let redriven = parked_events.redrive_parked_event(authed(redrive, &admin).expect("request"));
    let redriven = redriven.await.expect("re-driven").into_inner().parked_event.expect("the record");
    assert!(redriven.redriven, "{redriven:?}");
    eventually("the flag is cleared", || {
        let get = get(c.student.clone(), delayed.clone());
        async move { get.await.application.filter(|a| !a.processing_delayed) }
    })
    .await;
}
