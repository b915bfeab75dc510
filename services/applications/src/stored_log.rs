//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_testkit::stored_log::{assert_folds_as_before, decoded, folded, parked};

use crate::{
    attachments::Attachments,
    catalog_copy::{CalendarCopy, ServiceCopy},
    domain::{Application, CounterEvent},
};

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
