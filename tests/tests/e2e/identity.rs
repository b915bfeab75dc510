//! Identity in the whole system: an administrator imports a student, who activates the account with the one-time
//! code and uses services with the token; refresh tokens rotate; organisations stay apart.

use onewindow::walkthrough::{authed, demo_login, sign_in};
use onewindow_proto::{
    catalog::v1::{ListServicesRequest, catalog_service_client::CatalogServiceClient},
    identity::v1::{
        ActivateAccountRequest, GetCardRequest, ImportAccountsRequest, RefreshTokenRequest, SignInRequest,
        identity_service_client::IdentityServiceClient,
    },
};
use tonic::Code;

use super::embedded::EmbeddedSystem;

const CSV: &str = "login,surname,name,patronymic,birth_date,iin,roles,department,position,faculty,specialty,course,\
                   group,email,phone\n\
                   aidana,Bekova,Aidana,Nurlanqyzy,2005-07-15,050715603456,applicant,,,Law,Jurisprudence,1,L-25-1,\
                   aidana@example.kz,+77011234567";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_student_activates_signs_in_and_uses_the_services() {
    let system = EmbeddedSystem::start().await;
    let demo = system.data_dir.join("demo-accounts.txt");
    let admin =
        sign_in(&system.url, "kaznu", &demo_login(&demo, "kaznu", "admin").expect("admin")).await.expect("admin");
    let channel =
        tonic::transport::Endpoint::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let mut identity = IdentityServiceClient::new(channel.clone());

    let imported = identity
        .import_accounts(authed(ImportAccountsRequest { csv: CSV.into() }, &admin).expect("request"))
        .await
        .expect("imported")
        .into_inner();
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let account = imported.accounts[0].clone();
    identity
        .activate_account(ActivateAccountRequest {
            organization_id: "kaznu".into(),
            login: "aidana".into(),
            one_time_code: account.one_time_code.clone(),
            new_password: "Steppe7Tulip".into(),
        })
        .await
        .expect("activated");
    let signed_in = identity
        .sign_in(SignInRequest {
            organization_id: "kaznu".into(),
            login: "aidana".into(),
            password: "Steppe7Tulip".into(),
        })
        .await
        .expect("signs in")
        .into_inner();

    // Another service verifies the token on its own.
    let services = CatalogServiceClient::new(channel.clone())
        .list_services(authed(ListServicesRequest::default(), &signed_in.access_token).expect("request"))
        .await
        .expect("the catalog accepts the token")
        .into_inner()
        .services;
    assert!(!services.is_empty());

    let refreshed = identity
        .refresh_token(RefreshTokenRequest { organization_id: "kaznu".into(), refresh_token: signed_in.refresh_token })
        .await
        .expect("refreshed")
        .into_inner();
    CatalogServiceClient::new(channel.clone())
        .list_services(authed(ListServicesRequest::default(), &refreshed.access_token).expect("request"))
        .await
        .expect("the refreshed token works too");

    // Another organisation's administrator cannot read the card.
    let other_admin =
        sign_in(&system.url, "kaznmu", &demo_login(&demo, "kaznmu", "admin").expect("admin")).await.expect("admin");
    let elsewhere = identity
        .get_card(authed(GetCardRequest { user_id: account.user_id.clone() }, &other_admin).expect("request"))
        .await
        .expect_err("another organisation's card");
    assert_eq!(elsewhere.code(), Code::NotFound);
    let card = identity
        .get_card(authed(GetCardRequest { user_id: account.user_id }, &admin).expect("request"))
        .await
        .expect("the organisation's admin reads it")
        .into_inner()
        .card
        .expect("card");
    assert_eq!(card.group, "L-25-1");
}
