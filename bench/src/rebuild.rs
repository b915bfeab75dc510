//! Rebuilding state from the log (issue 9, point 5), against the bare read of the same rows.
//!
//! - [`one_application`]: one application with 1,000 events loaded (`load::<Application>`: read and fold) against
//!   `read_stream` of the same rows.
//! - [`million_event_rebuild`]: the applications' list read model rebuilt (`platform/projections`, what
//!   `onewindow rebuild` runs) from a log of a million events, against a bare sequential read of that log.

use std::{sync::Arc, time::Instant};

use onewindow_applications::{Application, ApplicationEvent, Created, Draft, Language, ServiceSnapshot, Submitted};
use onewindow_eventlog::{Commit, EventMetadata, EventStore, OrgId, StreamRef, encode, load};
use uuid::Uuid;

use crate::stats::Run;

/// The events of one application: created, submitted, then approval records (an approver per event) up to `count`.
fn application_events(application_id: Uuid, count: usize) -> anyhow::Result<Vec<ApplicationEvent>> {
    let service = ServiceSnapshot {
        code: "kaznmu-clearance-sheet".into(),
        version: 1,
        name_ru: "Обходной лист".into(),
        issues_document: "clearance_sheet".into(),
        document_languages: vec![Language::Ru],
        ..Default::default()
    };
    let draft = Draft { document_language: Some(Language::Ru), reason: "graduation".into(), ..Default::default() };
    let applicant_id = Uuid::now_v7();
    let mut events = vec![
        ApplicationEvent::Created(Box::new(Created {
            application_id,
            number: "KAZNMU-2026-000001".into(),
            applicant_id,
            applicant_name: "Dias Ospanov".into(),
            service: service.clone(),
            draft: draft.clone(),
            applicant: Default::default(),
            planned_at: None,
        })),
        ApplicationEvent::Submitted(Box::new(Submitted {
            application_id,
            number: "KAZNMU-2026-000001".into(),
            applicant_id,
            applicant_name: "Dias Ospanov".into(),
            service_code: service.code.clone(),
            service_version: 1,
            service_name: service.name_ru.clone(),
            route: Vec::new(),
            issues_document: service.issues_document.clone(),
            document_language: Some(Language::Ru),
            email: "graduate@example.kz".into(),
            service_names: Default::default(),
            reason: draft.reason.clone(),
            office: String::new(),
            planned_at: None,
        })),
    ];
    // The approval record's payload type is the domain's own, not exported: built from its documented JSON
    // (docs/EVENTS.md), which the domain's decoder checks.
    for n in events.len()..count {
        let record = serde_json::json!({
            "type": "application.approval_recorded",
            "payload": {
                "application_id": application_id,
                "department": format!("department-{n}"),
                "approved": true,
                "decided_by_id": Uuid::now_v7(),
                "decided_by_name": format!("Approver {n}"),
                "note": "No debts",
                "decided_at": chrono::Utc::now(),
            },
        });
        events.push(serde_json::from_value(record)?);
    }
    Ok(events)
}

/// Writes one application of `count` events (in commits of 100) to the log at `url`, then loads it
/// `repetitions` times both ways. Returns (the bare read, the load).
pub async fn one_application(url: &str, count: usize, repetitions: usize) -> anyhow::Result<(Run, Run)> {
    let store: Arc<dyn EventStore> = onewindow_eventlog::open(url).await?;
    let org = OrgId::parse("bench")?;
    let application_id = Uuid::now_v7();
    let stream = StreamRef::new(&org, "application", application_id.to_string());
    let metadata = EventMetadata {
        occurred_at: chrono::Utc::now(),
        actor: "service:bench".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    };
    let events = application_events(application_id, count)?;
    let mut version = 0;
    for chunk in events.chunks(100) {
        let encoded = chunk.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>()?;
        store.commit(Commit::append(stream.clone(), version, encoded)).await?;
        version += chunk.len() as i64;
    }
    let backend = url.split(':').next().unwrap_or("");
    let mut reads = Vec::with_capacity(repetitions);
    let mut loads = Vec::with_capacity(repetitions);
    let started = Instant::now();
    for _ in 0..repetitions {
        let one = Instant::now();
        let rows = store.read_stream(&stream).await?;
        reads.push(one.elapsed());
        anyhow::ensure!(rows.len() == count, "read {} of {count} rows", rows.len());
        let one = Instant::now();
        let loaded = load::<Application>(store.as_ref(), &stream).await?;
        loads.push(one.elapsed());
        anyhow::ensure!(loaded.version == count as i64, "loaded version {} of {count}", loaded.version);
    }
    let elapsed = started.elapsed() / 2;
    Ok((
        Run::new(format!("read_stream of one application's {count} events ({backend})"), elapsed, reads),
        Run::new(format!("load::<Application> of {count} events ({backend})"), elapsed, loads),
    ))
}

/// What the million-event rebuild measured.
pub struct LogRebuild {
    /// A bare sequential read of the whole log (`read_all` in batches of 5,000, the rebuild's own reading).
    pub bare_read: Run,
    /// `rebuild` of the applications' list read model over the same log.
    pub rebuild: Run,
    pub rows: i64,
}

impl LogRebuild {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "bare_read": self.bare_read.json(),
            "rebuild": self.rebuild.json(),
            "read_model_rows": self.rows,
            "rebuild_speed_over_bare_read": self.ratio(),
            "target": ">= 0.5",
        })
    }

    pub fn ratio(&self) -> f64 {
        self.rebuild.per_second() / self.bare_read.per_second().max(f64::EPSILON)
    }
}

/// The applications' read model rebuilt from a log of `events` events on PostgreSQL (`postgres_url`, a fresh
/// database), against a bare sequential read of that log. The log is written first through the event store, as
/// the service writes it: applications of 12 events each (created, submitted, the sheet opened, seven approvals,
/// completed, issued), many applications per commit.
pub async fn million_event_rebuild(postgres_url: &str, events: u64) -> anyhow::Result<LogRebuild> {
    let store: Arc<dyn EventStore> = onewindow_eventlog::open(postgres_url).await?;
    let org = OrgId::parse("bench")?;
    let metadata = EventMetadata {
        occurred_at: chrono::Utc::now(),
        actor: "service:bench".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    };
    const PER_APPLICATION: usize = 12;
    const APPLICATIONS_PER_COMMIT: usize = 80;
    let applications = (events as usize).div_ceil(PER_APPLICATION);
    let writing = Instant::now();
    let mut written = 0usize;
    for first in (0..applications).step_by(APPLICATIONS_PER_COMMIT) {
        let mut appends = Vec::new();
        for _ in first..(first + APPLICATIONS_PER_COMMIT).min(applications) {
            let application_id = Uuid::now_v7();
            let mut lifecycle = application_events(application_id, PER_APPLICATION - 3)?;
            lifecycle.insert(
                2,
                serde_json::from_value(serde_json::json!({
                    "type": "application.work_started",
                    "payload": { "application_id": application_id, "approver_ids": [] },
                }))?,
            );
            lifecycle.push(serde_json::from_value(serde_json::json!({
                "type": "application.completed",
                "payload": { "application_id": application_id, "completed_by_name": "" },
            }))?);
            lifecycle.push(serde_json::from_value(serde_json::json!({
                "type": "application.issued",
                "payload": { "application_id": application_id, "document_id": Uuid::now_v7(),
                             "document_number": "KAZNMU-CL-2026-000001", "issued_by_name": "" },
            }))?);
            written += lifecycle.len();
            appends.push(onewindow_eventlog::StreamAppend {
                stream: StreamRef::new(&org, "application", application_id.to_string()),
                expected_version: 0,
                events: lifecycle.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>()?,
            });
        }
        store.commit(Commit { appends, inbox: None }).await?;
    }
    eprintln!("wrote {written} events in {:.1} s", writing.elapsed().as_secs_f64());

    // The bare read: every event, in commit order, in the rebuild's batch size; one latency per batch.
    let mut batches = Vec::new();
    let started = Instant::now();
    let mut after = onewindow_eventlog::Position::START;
    let mut read = 0usize;
    loop {
        let one = Instant::now();
        let batch = store.read_all(after, 5_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.position;
        read += batch.len();
        batches.push(one.elapsed());
    }
    let bare_elapsed = started.elapsed();
    anyhow::ensure!(read == written, "read {read} of {written} events");
    let bare_read = Run::new(format!("bare sequential read of {read} events (PostgreSQL)"), bare_elapsed, batches);
    let bare_read = Run { operations: read, ..bare_read };

    let projection = onewindow_applications::lists::projections()
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the applications have no projection"))?;
    let report = onewindow_projections::rebuild(projection.as_ref(), store.clone(), |_| {}).await?;
    anyhow::ensure!(report.events as usize == written, "rebuilt over {} of {written} events", report.events);
    anyhow::ensure!(report.rows as usize == applications, "{} rows for {applications} applications", report.rows);
    let rebuild = Run {
        name: format!("rebuild of {} over {written} events (PostgreSQL)", report.projection),
        operations: written,
        elapsed: report.elapsed,
        latencies: Vec::new(),
    };
    Ok(LogRebuild { bare_read, rebuild, rows: report.rows })
}
