//! Importing accounts from CSV: all or nothing, with every problem named by row and column.

use onewindow_auth::Role;
use onewindow_identity::Clock;
use tonic::Code;

use crate::helpers::{ARUZHAN, DIAS, HEADER, TestApp, csv, fields};

#[tokio::test]
async fn a_file_with_bad_rows_is_reported_by_row_and_column_and_nothing_is_imported() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.seed("taken", "Some7Password", &[Role::Applicant]).await;
    let bolat = "bolat,Seitkali,Bolat,,31.12.1988,881231401233,rector,,,,,,,,";
    let file = csv(&[
        ARUZHAN,
        // row 3: a mistyped IIN (the check digit fails)
        &DIAS.replace("950524300561", "950524300562"),
        // row 4: a role nobody has
        bolat,
        // row 5: the login of row 2 again
        &DIAS.replace("dias,", "aruzhan,"),
        // row 6: a login that has an account already
        &DIAS.replace("dias,", "taken,").replace("950524300561", "000101500120").replace("24.05.1995", "2000-01-01"),
    ]);
    let report = app.import(&admin, &file).await.expect("a report");
    assert!(report.accounts.is_empty());
    let problems: Vec<(i32, &str)> = report.problems.iter().map(|p| (p.row, p.column.as_str())).collect();
    assert_eq!(problems, [(3, "iin"), (4, "roles"), (5, "login"), (6, "login")]);
    let messages: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(messages[0].contains("check digit"), "{messages:?}");
    assert!(messages[1].contains("\"rector\""), "{messages:?}");
    assert_eq!(messages[2], "the same login as row 2");
    assert!(messages.iter().all(|m| !m.contains("95052430056")), "no message repeats an IIN: {messages:?}");

    let mut logins = app.store.list_streams(&app.org, "account").await.expect("accounts");
    logins.sort();
    assert_eq!(logins, ["admin", "taken"], "no account was created");
    assert!(app.store.list_streams(&app.org, "card").await.expect("cards").is_empty(), "no card was created");
}

#[tokio::test]
async fn a_good_file_creates_every_account_with_its_own_code() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let report = app.import(&admin, &csv(&[ARUZHAN, DIAS])).await.expect("imported");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let rows: Vec<(i32, &str)> = report.accounts.iter().map(|a| (a.row, a.login.as_str())).collect();
    assert_eq!(rows, [(2, "aruzhan"), (3, "dias")]);
    assert_ne!(report.accounts[0].one_time_code, report.accounts[1].one_time_code);
    for account in &report.accounts {
        let expires = account.one_time_code_expires_at.as_ref().expect("expiry");
        assert_eq!(expires.seconds, (app.clock.now() + onewindow_identity::access_code_ttl()).timestamp());
    }
    let again = app.import(&admin, &csv(&[ARUZHAN])).await.expect("a report");
    assert_eq!(again.problems.len(), 2, "the login and the IIN are taken now: {:?}", again.problems);
}

#[tokio::test]
async fn only_admins_import_and_a_file_must_fit() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.seed("registrar", "Some7Password", &[Role::Executor]).await;
    let registrar = app.sign_in("registrar", "Some7Password").await.expect("signs in").access_token;
    let denied = app.import(&registrar, &csv(&[ARUZHAN])).await.expect_err("not an admin");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = app
        .client()
        .import_accounts(tonic::Request::new(onewindow_proto::identity::v1::ImportAccountsRequest {
            csv: csv(&[ARUZHAN]),
        }))
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    for file in [String::new(), HEADER.to_owned()] {
        let empty = app.import(&admin, &file).await.expect_err("empty");
        assert_eq!(fields(&empty), ["csv"]);
    }
    let rows: Vec<String> = (0..501).map(|i| ARUZHAN.replace("aruzhan,", &format!("s{i:04},"))).collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let big = app.import(&admin, &csv(&rows)).await.expect_err("too many rows");
    assert_eq!(fields(&big), ["csv"]);
}

#[tokio::test]
async fn the_holders_of_a_post_are_listed_without_a_token_and_only_approvers_and_signatories() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // Dias is the dean (approver and signatory); a student and another dean without a deciding role are not.
    let clerk = DIAS
        .replace("dias,", "clerk,")
        .replace("950524300561", "000101500120")
        .replace("approver;signatory", "executor");
    let clerk = clerk.replace("24.05.1995", "2000-01-01");
    app.import(&admin, &csv(&[ARUZHAN, DIAS, &clerk])).await.expect("imported");
    let ask = |department: &str, position: &str| onewindow_proto::identity::v1::ListPostHoldersRequest {
        organization_id: "kaznu".into(),
        department: department.into(),
        position: position.into(),
    };
    let holders = app.client().list_post_holders(ask("deans-office", " Dean ")).await.expect("listed").into_inner();
    let names: Vec<&str> = holders.holders.iter().map(|h| h.full_name.as_str()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].contains("Dias"), "{names:?}");
    assert_eq!(holders.holders[0].position, "dean");
    assert!(
        app.client().list_post_holders(ask("library", "dean")).await.expect("listed").into_inner().holders.is_empty()
    );
    let mut other = ask("deans-office", "dean");
    other.organization_id = "kaznmu".into();
    assert!(app.client().list_post_holders(other).await.expect("listed").into_inner().holders.is_empty());
    let refused = app.client().list_post_holders(ask("", "")).await.expect_err("invalid");
    assert_eq!(refused.code(), Code::InvalidArgument);
}
