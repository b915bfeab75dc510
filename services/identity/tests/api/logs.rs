//! No secret reaches a log line: passwords, one-time codes, refresh and access tokens, IINs.

use onewindow_auth::Role;

use crate::helpers::{ARUZHAN, TestApp, captured_logs, csv};

#[tokio::test]
async fn sign_in_failures_activation_import_and_refresh_log_no_secret() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let imported = app.import(&admin, &csv(&[ARUZHAN])).await.expect("imported");
    let code = imported.accounts[0].one_time_code.clone();
    let wrong_code = app.activate("aruzhan", "ZZZZ-ZZZZ-ZZZZ", "Steppe7Wind-2025").await.expect_err("wrong code");
    app.activate("aruzhan", &code, "Steppe7Wind-2025").await.expect("activated");
    let failed = app.sign_in("aruzhan", "Wrong7Guess-2025").await.expect_err("wrong password");
    let signed_in = app.sign_in("aruzhan", "Steppe7Wind-2025").await.expect("signs in");
    let refreshed = app.refresh(&signed_in.refresh_token).await.expect("refreshed");
    let reused = app.refresh(&signed_in.refresh_token).await.expect_err("reused");
    app.seed("dias", "Seeded7Password-2025", &[Role::Applicant]).await;
    let me = app.me(&signed_in.access_token).await.expect("me");
    app.sign_out(&refreshed.refresh_token).await.expect("signed out");
    drop(app);

    // Every test of this binary logs here; all the better: none may leak these either.
    let logs = captured_logs();
    assert!(logs.contains("signed in"), "the capture works: {logs}");
    assert!(logs.contains("accounts imported"), "{logs}");
    let secrets = [
        ("a password", "Steppe7Wind-2025"),
        ("a wrong password", "Wrong7Guess-2025"),
        ("the admin's password", crate::helpers::ADMIN_PASSWORD),
        ("a seeded password", "Seeded7Password-2025"),
        ("the one-time code", &code),
        ("the one-time code without dashes", &code.replace('-', "")),
        ("a wrong one-time code", "ZZZZ-ZZZZ-ZZZZ"),
        ("the IIN", "050715603456"),
        ("the refresh token", &signed_in.refresh_token),
        ("the rotated refresh token", &refreshed.refresh_token),
        ("the access token", &signed_in.access_token),
        ("the refreshed access token", &refreshed.access_token),
        ("the admin's access token", &admin),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "{what} appears in the logs");
    }
    // Nor in what the callers were told.
    for status in [&wrong_code, &failed, &reused] {
        assert!(!status.message().contains("Steppe7Wind") && !status.message().contains(&signed_in.refresh_token));
    }
    assert!(me.card.is_some());
}
