//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_eventlog::{Aggregate, RecordedEvent, decode, fold};
use onewindow_testkit::stored_log::assert_folds_as_before;

use crate::{
    attachments::Attachments,
    catalog_copy::{CalendarCopy, ServiceCopy},
    domain::{Application, CounterEvent},
};

fn folded<A: Aggregate + std::fmt::Debug>(events: &[RecordedEvent]) -> String {
    format!("{:#?}", fold::<A>(events.to_vec()).expect("the stored stream folds").state)
}

#[allow(dead_code)]
fn decoded<E: serde::de::DeserializeOwned + onewindow_eventlog::EventSchema + std::fmt::Debug>(
    what: &str,
    events: &[RecordedEvent],
) -> String {
    let decoded: Vec<E> = events.iter().map(|e| decode::<E>(e).expect("the stored event decodes")).collect();
    format!("(no Aggregate: the events decoded with {what})\n{decoded:#?}")
}

#[allow(dead_code)]
fn parked(events: &[RecordedEvent]) -> String {
    let payloads: Vec<String> =
        events.iter().map(|e| serde_json::to_string_pretty(&e.payload).expect("json")).collect();
    format!("(no Aggregate: parked.event_parked payloads, written by onewindow-bus)\n{}", payloads.join("\n"))
}

#[tokio::test]
async fn the_log_main_wrote_on_2026_12_03_folds_into_the_same_state() {
    let compared = assert_folds_as_before(
        "applications",
        |stream_type, events| match stream_type {
            "application" => folded::<Application>(events),
            "attachment" => folded::<Attachments>(events),
            "service_copy" => folded::<ServiceCopy>(events),
            "calendar_copy" => folded::<CalendarCopy>(events),
            "application_number" => decoded::<CounterEvent>("CounterEvent", events),
            "parked" => parked(events),
            other => panic!("no aggregate known for {other}"),
        },
        |_, before| before.to_owned(),
    )
    .await;
    assert!(compared > 0);
}
