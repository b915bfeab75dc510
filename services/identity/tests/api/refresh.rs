//! Refresh tokens: rotation, reuse detection, sign-out and expiry.

use std::sync::Arc;

use chrono::Duration;
use onewindow_auth::{Authenticator, PublicKey, Role, StaticKeySource};
use tonic::Code;

use crate::helpers::TestApp;

const PASSWORD: &str = "Right7Password";

#[tokio::test]
async fn a_refresh_returns_a_new_pair_and_retires_the_presented_token() {
    let app = TestApp::spawn().await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let signed_in = app.sign_in("aruzhan", PASSWORD).await.expect("signs in");
    assert_eq!(signed_in.refresh_token.len(), 43, "256 bits, base64url");

    app.clock.advance(Duration::minutes(20));
    let first = app.refresh(&signed_in.refresh_token).await.expect("refreshed");
    assert_ne!(first.refresh_token, signed_in.refresh_token);
    assert_ne!(first.access_token, signed_in.access_token);
    let me = app.me(&first.access_token).await.expect("the new access token works");
    assert_eq!(me.account.expect("account").login, "aruzhan");
    let second = app.refresh(&first.refresh_token).await.expect("the new refresh token works");
    assert_ne!(second.refresh_token, first.refresh_token);
}

#[tokio::test]
async fn reusing_a_retired_token_revokes_its_whole_sign_in_and_no_other() {
    let app = TestApp::spawn().await;
    let user_id = app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let phone = app.sign_in("aruzhan", PASSWORD).await.expect("signs in on the phone");
    let laptop = app.sign_in("aruzhan", PASSWORD).await.expect("signs in on the laptop");

    let newest = app.refresh(&phone.refresh_token).await.expect("rotated");
    let reused = app.refresh(&phone.refresh_token).await.expect_err("the retired token again");
    assert_eq!(reused.code(), Code::Unauthenticated);
    assert!(reused.message().contains("already used"), "{}", reused.message());
    let newest_too = app.refresh(&newest.refresh_token).await.expect_err("the whole family is revoked");
    assert_eq!(newest_too.code(), Code::Unauthenticated);

    app.refresh(&laptop.refresh_token).await.expect("another sign-in is not affected");
    let security = app.event_types("security", &user_id.to_string()).await;
    assert_eq!(security.iter().filter(|t| *t == "security.refresh_token_reused").count(), 1, "{security:?}");
}

#[tokio::test]
async fn signing_out_revokes_the_sign_in() {
    let app = TestApp::spawn().await;
    let user_id = app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let signed_in = app.sign_in("aruzhan", PASSWORD).await.expect("signs in");
    let rotated = app.refresh(&signed_in.refresh_token).await.expect("rotated");
    app.sign_out(&rotated.refresh_token).await.expect("signed out");
    assert_eq!(app.refresh(&rotated.refresh_token).await.expect_err("revoked").code(), Code::Unauthenticated);
    app.sign_out(&rotated.refresh_token).await.expect("signing out twice is fine");
    let unknown = app.sign_out("not-a-token-anyone-was-given").await.expect_err("unknown");
    assert_eq!(unknown.code(), Code::Unauthenticated);
    let security = app.event_types("security", &user_id.to_string()).await;
    assert_eq!(security, ["security.signed_in", "security.signed_out"]);
}

#[tokio::test]
async fn refresh_tokens_expire_after_thirty_days_without_use() {
    let app = TestApp::spawn().await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let signed_in = app.sign_in("aruzhan", PASSWORD).await.expect("signs in");
    app.clock.advance(Duration::days(29));
    let kept = app.refresh(&signed_in.refresh_token).await.expect("still valid on day 29");
    app.clock.advance(Duration::days(30));
    let expired = app.refresh(&kept.refresh_token).await.expect_err("expired");
    assert_eq!(expired.code(), Code::Unauthenticated);
    assert!(expired.message().contains("expired"), "{}", expired.message());
}

#[tokio::test]
async fn a_refreshed_access_token_carries_the_current_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user_id = app.seed("gauhar", PASSWORD, &[Role::Approver]).await;
    let signed_in = app.sign_in("gauhar", PASSWORD).await.expect("signs in");
    let update = onewindow_proto::identity::v1::UpdateAccountRequest {
        user_id: user_id.to_string(),
        roles: vec![
            onewindow_proto::identity::v1::Role::Approver as i32,
            onewindow_proto::identity::v1::Role::Signatory as i32,
        ],
        department: "deans-office".into(),
        position: "dean".into(),
    };
    app.client().update_account(crate::helpers::authed(update, &admin)).await.expect("updated");
    let refreshed = app.refresh(&signed_in.refresh_token).await.expect("refreshed");
    let roles = refreshed.account.expect("account").roles;
    assert_eq!(
        roles,
        [onewindow_proto::identity::v1::Role::Approver as i32, onewindow_proto::identity::v1::Role::Signatory as i32]
    );
    // Other services verify the token with the public keys alone.
    let keys = app
        .client()
        .list_signing_keys(onewindow_proto::identity::v1::ListSigningKeysRequest {})
        .await
        .expect("keys")
        .into_inner()
        .keys;
    let keys = keys.into_iter().map(|k| PublicKey { key_id: k.key_id, pem: k.public_key_pem }).collect();
    let principal = Authenticator::new(Arc::new(StaticKeySource(keys)))
        .verify(&refreshed.access_token)
        .await
        .expect("a valid token");
    assert_eq!((principal.roles, principal.position.as_str()), (vec![Role::Approver, Role::Signatory], "dean"));
    let security = app.event_types("security", &user_id.to_string()).await;
    assert!(security.contains(&"security.roles_changed".to_owned()), "{security:?}");
}
