//! Guessing: five failures lock an account for fifteen minutes; each source network has a budget.

use chrono::Duration;
use onewindow_auth::Role;
use onewindow_proto::identity::v1 as pb;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

use crate::helpers::{ORG, TestApp, options};

const PASSWORD: &str = "Right7Password";

fn assert_locked(status: &Status) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("try again after"), "{}", status.message());
    let retry = status.get_details_retry_info().expect("when to retry");
    let delay = retry.retry_delay.expect("a delay");
    assert!(delay > std::time::Duration::ZERO && delay <= std::time::Duration::from_secs(15 * 60), "{delay:?}");
}

#[tokio::test]
async fn five_failures_lock_the_account_until_the_period_ends() {
    let app = TestApp::spawn().await;
    let user_id = app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    for attempt in 1..=5 {
        let wrong = app.sign_in("aruzhan", "Wrong7Password").await.expect_err("wrong password");
        assert_eq!(wrong.code(), Code::Unauthenticated, "attempt {attempt}");
        app.clock.advance(Duration::minutes(1));
    }
    assert_locked(&app.sign_in("aruzhan", PASSWORD).await.expect_err("locked: even the right password"));
    assert_locked(&app.sign_in("aruzhan", "Wrong7Password").await.expect_err("locked"));

    // The lock started with the fifth failure, a minute ago.
    app.clock.advance(Duration::minutes(13));
    assert_locked(&app.sign_in("aruzhan", PASSWORD).await.expect_err("still locked a minute before the end"));
    app.clock.advance(Duration::minutes(1));
    app.sign_in("aruzhan", PASSWORD).await.expect("unlocked after fifteen minutes");

    let security = app.event_types("security", &user_id.to_string()).await;
    let expected: Vec<&str> =
        [vec!["security.sign_in_failed"; 5], vec!["security.locked_out", "security.signed_in"]].concat();
    assert_eq!(security, expected);
}

#[tokio::test]
async fn failures_spread_over_more_than_fifteen_minutes_do_not_lock() {
    let app = TestApp::spawn().await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    for _ in 0..8 {
        app.sign_in("aruzhan", "Wrong7Password").await.expect_err("wrong password");
        app.clock.advance(Duration::minutes(4));
    }
    app.sign_in("aruzhan", PASSWORD).await.expect("never locked");
}

#[tokio::test]
async fn a_login_that_does_not_exist_looks_the_same() {
    let app = TestApp::spawn().await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    for _ in 0..5 {
        let real = app.sign_in("aruzhan", "Wrong7Password").await.expect_err("wrong password");
        let ghost = app.sign_in("ghost", "Wrong7Password").await.expect_err("no such login");
        assert_eq!((real.code(), real.message()), (ghost.code(), ghost.message()));
    }
    assert_locked(&app.sign_in("aruzhan", "Wrong7Password").await.expect_err("locked"));
    assert_locked(&app.sign_in("ghost", "Wrong7Password").await.expect_err("locked just the same"));
}

#[tokio::test]
async fn each_source_network_has_a_budget() {
    let app = TestApp::spawn_with(options(3, true)).await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let from = |address: &str, password: &str| {
        let mut request = Request::new(pb::SignInRequest {
            organization_id: ORG.into(),
            login: "aruzhan".into(),
            password: password.into(),
        });
        request.metadata_mut().insert("x-forwarded-for", address.parse().expect("header"));
        request
    };
    let mut client = app.client();
    for (i, address) in ["203.0.113.5", "203.0.113.6", "203.0.113.7"].into_iter().enumerate() {
        let password = if i == 0 { PASSWORD } else { "Wrong7Password" };
        let _ = client.sign_in(from(address, password)).await;
    }
    let over = client.sign_in(from("203.0.113.200", PASSWORD)).await.expect_err("the /24 has used its budget");
    assert_eq!(over.code(), Code::ResourceExhausted);
    assert!(over.message().contains("network"), "{}", over.message());
    client.sign_in(from("198.51.100.1", PASSWORD)).await.expect("another network has its own budget");
}

#[tokio::test]
async fn without_a_gateway_the_budget_is_the_peers() {
    let app = TestApp::spawn_with(options(2, false)).await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    app.sign_in("aruzhan", PASSWORD).await.expect("first");
    app.sign_in("aruzhan", PASSWORD).await.expect("second");
    let mut client = app.client();
    let mut request = Request::new(pb::SignInRequest {
        organization_id: ORG.into(),
        login: "aruzhan".into(),
        password: PASSWORD.into(),
    });
    // An untrusted x-forwarded-for is ignored: the peer (127.0.0.1) has used its budget.
    request.metadata_mut().insert("x-forwarded-for", "198.51.100.1".parse().expect("header"));
    assert_eq!(client.sign_in(request).await.expect_err("over").code(), Code::ResourceExhausted);
}
