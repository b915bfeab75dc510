//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_eventlog::fold;
use onewindow_testkit::stored_log::{assert_folds_as_before, folded};

use crate::{
    account::{Account, UserLogin},
    card::Card,
    keys::KeyRing,
    refresh::{Family, TokenFamily},
    security::SignInGuard,
};

#[tokio::test]
async fn the_log_main_wrote_on_2026_12_03_folds_into_the_same_state() {
    let compared = assert_folds_as_before(
        "identity",
        |stream_type, events| match stream_type {
            "account" => folded::<Account>(events),
            "user" => folded::<UserLogin>(events),
            "card" => folded::<Card>(events),
            "refresh_family" => folded::<Family>(events),
            "refresh_token" => folded::<TokenFamily>(events),
            "security" => folded::<SignInGuard>(events),
            // KeyRing has no Debug (it holds the secret keys): its pairs, whose Debug hides the private key.
            "signing_keys" => {
                let ring = fold::<KeyRing>(events.to_vec()).expect("folds").state;
                format!("KeyRing {{ pairs: {:#?} }}", ring.pairs)
            }
            other => panic!("no aggregate known for {other}"),
        },
        |_, before| before.to_owned(),
    )
    .await;
    assert!(compared > 0);
}
