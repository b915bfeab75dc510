//! The personal card (own, or staff's view), the profile, password changes and roles.

use chrono::Duration;
use onewindow_auth::Role;
use onewindow_proto::identity::v1 as pb;
use tonic::Code;

use crate::helpers::{ARUZHAN, DIAS, TestApp, authed, csv, fields, violations};

const PASSWORD: &str = "Right7Password";

/// Imports Aruzhan (a student) and Dias (staff), activates both, and returns their user ids and access tokens.
async fn two_people(app: &TestApp, admin: &str) -> [(String, String); 2] {
    let imported = app.import(admin, &csv(&[ARUZHAN, DIAS])).await.expect("imported");
    let mut people = Vec::new();
    for account in imported.accounts {
        app.activate(&account.login, &account.one_time_code, PASSWORD).await.expect("activated");
        let token = app.sign_in(&account.login, PASSWORD).await.expect("signs in").access_token;
        people.push((account.user_id, token));
    }
    [people[0].clone(), people[1].clone()]
}

async fn card(app: &TestApp, token: &str, user_id: &str) -> Result<pb::PersonalCard, tonic::Status> {
    let request = authed(pb::GetCardRequest { user_id: user_id.into() }, token);
    app.client().get_card(request).await.map(|r| r.into_inner().card.expect("card"))
}

#[tokio::test]
async fn a_card_is_read_by_its_owner_and_by_staff_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let [(aruzhan_id, aruzhan), (_, dias)] = two_people(&app, &admin).await;
    app.seed("registrar", PASSWORD, &[Role::Executor]).await;
    let registrar = app.sign_in("registrar", PASSWORD).await.expect("signs in").access_token;

    let own = card(&app, &aruzhan, "").await.expect("own card");
    assert_eq!(
        (own.user_id.as_str(), own.surname.as_str(), own.group.as_str()),
        (aruzhan_id.as_str(), "Nurlanova", "CS-23-1")
    );
    assert_eq!(card(&app, &aruzhan, &aruzhan_id).await.expect("own card by id").iin, "050715603456");
    assert_eq!(card(&app, &registrar, &aruzhan_id).await.expect("an executor").iin, "050715603456");
    assert_eq!(card(&app, &admin, &aruzhan_id).await.expect("an admin").iin, "050715603456");
    let denied = card(&app, &dias, &aruzhan_id).await.expect_err("an approver reads no one else's card");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let missing = card(&app, &registrar, "").await.expect_err("seeded staff have no card");
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(fields(&card(&app, &admin, "not-a-uuid").await.expect_err("bad id")), ["user_id"]);
}

#[tokio::test]
async fn an_admin_corrects_a_card_and_every_problem_is_named() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let [(aruzhan_id, aruzhan), (dias_id, _)] = two_people(&app, &admin).await;
    let mut corrected = card(&app, &admin, &aruzhan_id).await.expect("card");
    corrected.course = 3;
    corrected.group = "CS-23-2".into();
    corrected.identity_document = Some(pb::IdentityDocument {
        r#type: pb::IdentityDocumentType::IdCard as i32,
        number: "045123987".into(),
        issued_by: "MVD RK".into(),
        issue_date: "2021-07-20".into(),
    });
    let update = |card: pb::PersonalCard, token: &str| authed(pb::UpdateCardRequest { card: Some(card) }, token);
    let saved = app.client().update_card(update(corrected.clone(), &admin)).await.expect("saved").into_inner();
    let saved = saved.card.expect("card");
    assert_eq!((saved.course, saved.group.as_str()), (3, "CS-23-2"));
    let me = app.me(&aruzhan).await.expect("me");
    assert_eq!(me.card.expect("card").identity_document.expect("document").number, "045123987");

    let denied = app.client().update_card(update(corrected.clone(), &aruzhan)).await.expect_err("not an admin");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let mut wrong = corrected.clone();
    wrong.birth_date = "2005-07-16".into();
    wrong.course = 9;
    wrong.email = "nope".into();
    if let Some(document) = wrong.identity_document.as_mut() {
        document.issued_by.clear();
    }
    let invalid = app.client().update_card(update(wrong, &admin)).await.expect_err("invalid");
    assert_eq!(fields(&invalid), ["card.iin", "card.identity_document.issued_by", "card.course", "card.email"]);
    assert!(!invalid.message().contains("050715603456"), "{}", invalid.message());

    let mut someone_elses = corrected.clone();
    someone_elses.user_id = dias_id;
    let taken = app.client().update_card(update(someone_elses, &admin)).await.expect_err("the IIN is Aruzhan's");
    assert_eq!(fields(&taken), ["card.iin"]);

    let mut nobody = corrected;
    nobody.user_id = uuid::Uuid::now_v7().to_string();
    let missing = app.client().update_card(update(nobody, &admin)).await.expect_err("no such account");
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn a_person_sets_contacts_language_and_notifications() {
    let app = TestApp::spawn().await;
    app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let token = app.sign_in("aruzhan", PASSWORD).await.expect("signs in").access_token;
    let preference = |kind: &str, channel: pb::NotificationChannel, enabled| pb::NotificationPreference {
        kind: kind.into(),
        channel: channel as i32,
        enabled,
    };
    let profile = pb::UpdateProfileRequest {
        phone: "8 (701) 123-45-67".into(),
        email: "aruzhan@kaznu.example.kz".into(),
        language: "kk".into(),
        notification_preferences: vec![
            preference("application.submitted", pb::NotificationChannel::Email, false),
            preference("document.issued", pb::NotificationChannel::InSystem, true),
        ],
    };
    let updated = app.client().update_profile(authed(profile, &token)).await.expect("updated").into_inner();
    let account = updated.account.expect("account");
    assert_eq!((account.phone.as_str(), account.language.as_str()), ("+77011234567", "kk"));
    assert_eq!(account.notification_preferences.len(), 2);
    assert_eq!(app.me(&token).await.expect("me").account.expect("account").email, "aruzhan@kaznu.example.kz");

    let bad = pb::UpdateProfileRequest {
        phone: "call me".into(),
        email: "nope".into(),
        language: "de".into(),
        notification_preferences: vec![
            preference("Submitted", pb::NotificationChannel::Email, true),
            preference("document.issued", pb::NotificationChannel::Unspecified, true),
            preference("document.issued", pb::NotificationChannel::Email, true),
            preference("document.issued", pb::NotificationChannel::Email, false),
        ],
    };
    let invalid = app.client().update_profile(authed(bad, &token)).await.expect_err("invalid");
    assert_eq!(
        fields(&invalid),
        [
            "phone",
            "email",
            "language",
            "notification_preferences[0].kind",
            "notification_preferences[1].channel",
            "notification_preferences[3].kind",
        ]
    );
}

#[tokio::test]
async fn a_password_change_applies_the_rules_and_ends_other_sign_ins() {
    let app = TestApp::spawn().await;
    let user_id = app.seed("aruzhan", PASSWORD, &[Role::Applicant]).await;
    let signed_in = app.sign_in("aruzhan", PASSWORD).await.expect("signs in");
    let change = |old: &str, new: &str| {
        authed(
            pb::ChangePasswordRequest { old_password: old.into(), new_password: new.into() },
            &signed_in.access_token,
        )
    };
    let weak = app.client().change_password(change(PASSWORD, "short")).await.expect_err("weak");
    assert_eq!(violations(&weak).len(), 2, "too short, no digits: {:?}", violations(&weak));
    let same = app.client().change_password(change(PASSWORD, PASSWORD)).await.expect_err("the same");
    assert_eq!(fields(&same), ["new_password"]);
    let wrong = app.client().change_password(change("Wrong7Password", "Fresh7Password")).await.expect_err("wrong old");
    assert_eq!(fields(&wrong), ["old_password"]);

    app.clock.advance(Duration::seconds(1));
    app.client().change_password(change(PASSWORD, "Fresh7Password")).await.expect("changed");
    assert_eq!(app.sign_in("aruzhan", PASSWORD).await.expect_err("old").code(), Code::Unauthenticated);
    let fresh = app.sign_in("aruzhan", "Fresh7Password").await.expect("new password");
    let ended = app.refresh(&signed_in.refresh_token).await.expect_err("the earlier sign-in ended");
    assert!(ended.message().contains("password was changed"), "{}", ended.message());
    app.refresh(&fresh.refresh_token).await.expect("the sign-in after the change works");
    let security = app.event_types("security", &user_id.to_string()).await;
    assert_eq!(
        security,
        [
            "security.signed_in",
            "security.sign_in_failed",
            "security.password_changed",
            "security.sign_in_failed",
            "security.signed_in"
        ]
    );
}

#[tokio::test]
async fn an_admin_sets_roles_but_never_drops_their_own_admin_role() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let admin_id = app.me(&admin).await.expect("me").account.expect("account").id;
    let user_id = app.seed("gauhar", PASSWORD, &[Role::Approver]).await;
    let update = |user_id: &str, roles: Vec<pb::Role>| {
        authed(
            pb::UpdateAccountRequest {
                user_id: user_id.into(),
                roles: roles.into_iter().map(|r| r as i32).collect(),
                department: "rectorate".into(),
                position: "vice-rector".into(),
            },
            &admin,
        )
    };
    let account = app
        .client()
        .update_account(update(&user_id.to_string(), vec![pb::Role::Signatory, pb::Role::Integrator]))
        .await
        .expect("updated")
        .into_inner()
        .account
        .expect("account");
    assert_eq!(account.roles, [pb::Role::Signatory as i32, pb::Role::Integrator as i32]);
    assert_eq!(account.position, "vice-rector");

    let own =
        app.client().update_account(update(&admin_id, vec![pb::Role::Executor])).await.expect_err("own admin role");
    assert_eq!(own.code(), Code::FailedPrecondition);
    let none = app.client().update_account(update(&user_id.to_string(), vec![])).await.expect_err("no role");
    assert_eq!(fields(&none), ["roles"]);
    let unspecified =
        app.client().update_account(update(&user_id.to_string(), vec![pb::Role::Unspecified])).await.expect_err("bad");
    assert_eq!(fields(&unspecified), ["roles"]);
}
