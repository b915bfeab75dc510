//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_testkit::stored_log::{assert_folds_as_before, folded};

use crate::domain::{CatalogEntry, DepartmentEntry, OrgCalendar, SectionEntry};

#[tokio::test]
async fn the_log_main_wrote_on_2026_12_03_folds_into_the_same_state() {
    let compared = assert_folds_as_before(
        "catalog",
        |stream_type, events| match stream_type {
            "service" => folded::<CatalogEntry>(events),
            "section" => folded::<SectionEntry>(events),
            "department" => folded::<DepartmentEntry>(events),
            "calendar" => folded::<OrgCalendar>(events),
            other => panic!("no aggregate known for {other}"),
        },
        |_, before| before.to_owned(),
    )
    .await;
    assert!(compared > 0);
}
