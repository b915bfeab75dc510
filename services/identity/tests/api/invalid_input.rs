//! Every RPC answers bad input with INVALID_ARGUMENT naming each bad field.

use onewindow_proto::identity::v1 as pb;
use tonic::Request;

use crate::helpers::{TestApp, authed, fields};

#[tokio::test]
async fn every_rpc_names_the_bad_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut client = app.client();

    let cases: Vec<(&str, tonic::Status, &[&str])> = vec![
        (
            "SignIn",
            client.sign_in(pb::SignInRequest::default()).await.expect_err("empty"),
            &["organization_id", "login", "password"],
        ),
        (
            "RefreshToken",
            client
                .refresh_token(pb::RefreshTokenRequest { organization_id: "KazNU!".into(), refresh_token: " ".into() })
                .await
                .expect_err("bad"),
            &["organization_id", "refresh_token"],
        ),
        (
            "SignOut",
            client
                .sign_out(pb::SignOutRequest { organization_id: String::new(), refresh_token: "x".repeat(500) })
                .await
                .expect_err("bad"),
            &["organization_id", "refresh_token"],
        ),
        (
            "ActivateAccount",
            client
                .activate_account(pb::ActivateAccountRequest {
                    organization_id: "kaznu".into(),
                    login: "a b".into(),
                    one_time_code: String::new(),
                    new_password: "x".into(),
                })
                .await
                .expect_err("bad"),
            &["login", "one_time_code", "new_password", "new_password"],
        ),
        (
            "ChangePassword",
            client.change_password(authed(pb::ChangePasswordRequest::default(), &admin)).await.expect_err("bad"),
            &["old_password", "new_password", "new_password"],
        ),
        (
            "GetCard",
            client.get_card(authed(pb::GetCardRequest { user_id: "x".into() }, &admin)).await.expect_err("bad"),
            &["user_id"],
        ),
        (
            "UpdateCard without a card",
            client.update_card(authed(pb::UpdateCardRequest { card: None }, &admin)).await.expect_err("bad"),
            &["card"],
        ),
        (
            "UpdateCard with a bad id",
            client
                .update_card(authed(
                    pb::UpdateCardRequest {
                        card: Some(pb::PersonalCard { user_id: "x".into(), ..Default::default() }),
                    },
                    &admin,
                ))
                .await
                .expect_err("bad"),
            &["card.user_id"],
        ),
        (
            "UpdateCard with an empty card",
            client
                .update_card(authed(
                    pb::UpdateCardRequest {
                        card: Some(pb::PersonalCard {
                            user_id: uuid::Uuid::now_v7().to_string(),
                            ..Default::default()
                        }),
                    },
                    &admin,
                ))
                .await
                .expect_err("bad"),
            &["card.surname", "card.name", "card.birth_date", "card.iin"],
        ),
        (
            "ImportAccounts",
            client
                .import_accounts(authed(pb::ImportAccountsRequest { csv: String::new() }, &admin))
                .await
                .expect_err("bad"),
            &["csv"],
        ),
        (
            "UpdateAccount",
            client
                .update_account(authed(
                    pb::UpdateAccountRequest { position: "x".repeat(201), ..Default::default() },
                    &admin,
                ))
                .await
                .expect_err("bad"),
            &["user_id", "roles", "position"],
        ),
        (
            "IssueAccessCode",
            client
                .issue_access_code(authed(pb::IssueAccessCodeRequest { user_id: "nope".into() }, &admin))
                .await
                .expect_err("bad"),
            &["user_id"],
        ),
        (
            "UpdateProfile",
            client
                .update_profile(authed(
                    pb::UpdateProfileRequest { language: "fr".into(), ..Default::default() },
                    &admin,
                ))
                .await
                .expect_err("bad"),
            &["language"],
        ),
    ];
    for (rpc, status, expected) in cases {
        assert_eq!(fields(&status), expected, "{rpc}");
    }
    // Without a token, the calls for signed-in people refuse before looking at the input.
    let anonymous = client.get_card(Request::new(pb::GetCardRequest { user_id: "x".into() })).await.expect_err("anon");
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}
