//! Rebuilding state from the log (issue 9, point 5), against the bare read of the same rows.
//!
//! - [`one_application`]: one application with 1,000 events loaded (`load::<Application>`: read and fold) against
//!   `read_stream` of the same rows.
//! - [`million_event_rebuild`]: projections rebuilt from a log of a million events against a bare sequential read
//!   of the table. It needs the projection framework (`platform/projections`, `onewindow rebuild`), which is not on
//!   this branch yet: it refuses to run rather than report a figure it did not measure.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::bail;
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
        ApplicationEvent::Created(Created {
            application_id,
            number: "KAZNMU-2026-000001".into(),
            applicant_id,
            applicant_name: "Dias Ospanov".into(),
            service: service.clone(),
            draft: draft.clone(),
            applicant: Default::default(),
            planned_at: None,
        }),
        ApplicationEvent::Submitted(Submitted {
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
        }),
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
        let encoded = chunk.iter().map(|e| encode(e, 1, &metadata)).collect::<Result<Vec<_>, _>>()?;
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

/// Projections rebuilt from a log of at least a million events, against a bare sequential read of that table.
/// To be wired to `platform/projections` (`onewindow rebuild`) once it is merged; until then it says so.
pub async fn million_event_rebuild(_postgres_url: &str, _events: u64, _budget: Duration) -> anyhow::Result<Run> {
    bail!(
        "the million-event projection rebuild needs the projection framework (platform/projections, \
         `onewindow rebuild`), which is not on this branch yet: not measured"
    )
}
