//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_eventlog::fold;
use onewindow_testkit::stored_log::{assert_folds_as_before, decoded, folded, parked};

use crate::{
    departments::DepartmentName,
    domain::{Document, JournalEvent},
    signing::KeyRing,
    verification::{Checks, CodeIndex},
};

#[tokio::test]
async fn the_log_main_wrote_on_2026_12_03_folds_into_the_same_state() {
    let compared = assert_folds_as_before(
        "documents",
        |stream_type, events| match stream_type {
            "document" => folded::<Document>(events),
            "department_name" => folded::<DepartmentName>(events),
            "verification_code" => folded::<CodeIndex>(events),
            "verification" => folded::<Checks>(events),
            // KeyRing has no Debug (it holds the secret keys): its public keys.
            "signing_keys" => {
                let ring = fold::<KeyRing>(events.to_vec()).expect("folds").state;
                format!("KeyRing {{ public_keys: {:#?} }}", ring.public_keys())
            }
            "journal" => decoded::<JournalEvent>("JournalEvent", events),
            "parked" => parked(events),
            other => panic!("no aggregate known for {other}"),
        },
        |_, before| before.to_owned(),
    )
    .await;
    assert!(compared > 0);
}
