//! First access: an imported account's one-time code sets the password, once, before it expires.

use chrono::Duration;
use onewindow_proto::identity::v1 as pb;
use tonic::Code;

use crate::helpers::{ARUZHAN, TestApp, authed, csv, violations};

const PASSWORD: &str = "Bright7Steppe";

#[tokio::test]
async fn an_imported_student_sets_a_password_with_the_code_and_signs_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let imported = app.import(&admin, &csv(&[ARUZHAN])).await.expect("imported");
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let account = &imported.accounts[0];
    assert_eq!((account.row, account.login.as_str()), (2, "aruzhan"));
    let code = account.one_time_code.clone();

    let before = app.sign_in("aruzhan", PASSWORD).await.expect_err("no password yet");
    assert_eq!(before.code(), Code::Unauthenticated);

    let weak = app.activate("aruzhan", &code, "aruzhan").await.expect_err("a weak password");
    let rules: Vec<String> = violations(&weak).into_iter().map(|(field, rule)| format!("{field}: {rule}")).collect();
    assert_eq!(
        rules,
        [
            "new_password: must be at least 10 characters",
            "new_password: must not be the login",
            "new_password: must contain both letters and digits",
        ]
    );
    let common = app.activate("aruzhan", &code, "qwerty12345").await.expect_err("a common password");
    assert_eq!(
        violations(&common),
        [("new_password".to_owned(), "is one of the most common passwords: choose another".to_owned())]
    );

    // The code is typed as people type it: lower case, without dashes.
    app.activate("Aruzhan", &code.to_lowercase().replace('-', ""), PASSWORD).await.expect("activated");
    let signed_in = app.sign_in("aruzhan", PASSWORD).await.expect("signs in with the new password");
    let me = app.me(&signed_in.access_token).await.expect("get me");
    let me_account = me.account.expect("account");
    assert_eq!(me_account.status, pb::AccountStatus::Active as i32);
    assert_eq!(
        (me_account.full_name.as_str(), me_account.phone.as_str()),
        ("Aruzhan Serikqyzy Nurlanova", "+77011234567")
    );
    let card = me.card.expect("the imported card");
    assert_eq!((card.iin.as_str(), card.course, card.birth_date.as_str()), ("050715603456", 2, "2005-07-15"));

    let again = app.activate("aruzhan", &code, "Another7Password").await.expect_err("the code is used up");
    assert_eq!(again.code(), Code::Unauthenticated);
    app.sign_in("aruzhan", PASSWORD).await.expect("the password set first still works");

    let user_id = me_account.id;
    let security = app.event_types("security", &user_id).await;
    assert_eq!(
        security,
        ["security.sign_in_failed", "security.account_activated", "security.signed_in", "security.signed_in"]
    );
}

#[tokio::test]
async fn an_expired_code_fails_and_an_administrator_issues_a_new_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let imported = app.import(&admin, &csv(&[ARUZHAN])).await.expect("imported");
    let account = imported.accounts[0].clone();

    app.clock.advance(Duration::hours(72));
    let expired = app.activate("aruzhan", &account.one_time_code, PASSWORD).await.expect_err("expired");
    assert_eq!(expired.code(), Code::FailedPrecondition);

    let issued = app
        .client()
        .issue_access_code(authed(pb::IssueAccessCodeRequest { user_id: account.user_id.clone() }, &admin))
        .await
        .expect("a new code")
        .into_inner();
    assert_ne!(issued.one_time_code, account.one_time_code);
    let replaced = app.activate("aruzhan", &account.one_time_code, PASSWORD).await.expect_err("the old code is gone");
    assert_eq!(replaced.code(), Code::Unauthenticated);
    app.activate("aruzhan", &issued.one_time_code, PASSWORD).await.expect("the new code works");
    app.sign_in("aruzhan", PASSWORD).await.expect("signs in");
}

#[tokio::test]
async fn a_wrong_code_and_an_unknown_login_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.import(&admin, &csv(&[ARUZHAN])).await.expect("imported");
    let wrong = app.activate("aruzhan", "AAAA-BBBB-CCCC", PASSWORD).await.expect_err("wrong code");
    let unknown = app.activate("nobody", "AAAA-BBBB-CCCC", PASSWORD).await.expect_err("unknown login");
    let seeded = app.activate("admin", "AAAA-BBBB-CCCC", PASSWORD).await.expect_err("an account without a code");
    for refused in [&wrong, &unknown, &seeded] {
        assert_eq!((refused.code(), refused.message()), (Code::Unauthenticated, wrong.message()));
    }
}

#[tokio::test]
async fn a_code_issued_to_an_active_account_resets_its_password_and_ends_its_sign_ins() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user_id = app.seed("dias", "Old7Password", &[onewindow_auth::Role::Approver]).await;
    let before = app.sign_in("dias", "Old7Password").await.expect("signs in");
    let issued = app
        .client()
        .issue_access_code(authed(pb::IssueAccessCodeRequest { user_id: user_id.to_string() }, &admin))
        .await
        .expect("a code")
        .into_inner();
    app.sign_in("dias", "Old7Password").await.expect("the password works until the code is used");
    app.clock.advance(Duration::seconds(1));
    app.activate("dias", &issued.one_time_code, "New7Password").await.expect("reset");
    assert_eq!(app.sign_in("dias", "Old7Password").await.expect_err("old password").code(), Code::Unauthenticated);
    app.sign_in("dias", "New7Password").await.expect("new password");
    let ended = app.refresh(&before.refresh_token).await.expect_err("sign-ins before the reset are over");
    assert_eq!(ended.code(), Code::Unauthenticated);
    let security = app.event_types("security", &user_id.to_string()).await;
    assert!(security.contains(&"security.password_changed".to_owned()), "{security:?}");
}
