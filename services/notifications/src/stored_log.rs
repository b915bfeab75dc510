//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_testkit::stored_log::{assert_folds_as_before, decoded, folded, parked};

use crate::{
    domain::Inbox,
    mail::{Contact, Email},
    preferences::{KnownApplication, Preferences},
    public_log::PublicLogEvent,
    webhooks::{Delivery, Webhook},
};

#[tokio::test]
async fn the_log_main_wrote_on_2026_12_03_folds_into_the_same_state() {
    let compared = assert_folds_as_before(
        "notifications",
        |stream_type, events| match stream_type {
            "preferences" => folded::<Preferences>(events),
            "application_copy" => folded::<KnownApplication>(events),
            "inbox" => folded::<Inbox>(events),
            "contact" => folded::<Contact>(events),
            "email" => folded::<Email>(events),
            "webhook" => folded::<Webhook>(events),
            "webhook_delivery" => folded::<Delivery>(events),
            "public_event" => decoded::<PublicLogEvent>("PublicLogEvent", events),
            "parked" => parked(events),
            other => panic!("no aggregate known for {other}"),
        },
        |_, before| before.to_owned(),
    )
    .await;
    assert!(compared > 0);
}
