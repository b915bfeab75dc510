//! The catalog through its API: the seeds' services in three languages, search, admin edits as new versions,
//! validated routes, and due dates on the working calendar.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use onewindow::walkthrough::{Login, authed, demo_login, sign_in};
use onewindow_proto::{
    applications::v1::{
        CreateApplicationRequest, GetApplicationRequest, Language, SubmitApplicationRequest,
        applications_service_client::ApplicationsServiceClient,
    },
    catalog::v1::{
        CalendarSettings, ComputeDueDateRequest, DayOff, DefineCalendarRequest, DefineSectionRequest,
        DefineServiceRequest, GetCalendarRequest, GetServiceRequest, ListSectionsRequest, ListServicesRequest,
        LocalizedText, RouteApprover, SearchServicesRequest, Section, catalog_service_client::CatalogServiceClient,
    },
    routing::v1::{GetSheetRequest, routing_service_client::RoutingServiceClient},
};
use tonic::{Code, transport::Channel};

use super::embedded::EmbeddedSystem;

async fn channel(system: &EmbeddedSystem) -> Channel {
    tonic::transport::Endpoint::from_shared(system.url.clone()).expect("url").connect().await.expect("connect")
}

fn admin(system: &EmbeddedSystem) -> Login {
    demo_login(&system.data_dir.join("demo-accounts.txt"), "kaznu", "admin").expect("the kaznu admin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_catalog_is_browsable_and_searchable_in_three_languages() {
    let system = EmbeddedSystem::start().await;
    let student = sign_in(&system.url, "kaznu", &system.cast("kaznu").student).await.expect("student");
    let mut catalog = CatalogServiceClient::new(channel(&system).await);

    let sections =
        catalog.list_sections(authed(ListSectionsRequest {}, &student).expect("req")).await.expect("sections");
    let sections = sections.into_inner().sections;
    assert!(sections.iter().any(|s| s.code == "registrar" && s.parent.is_empty()), "the registrar office is an office");
    let services = catalog
        .list_services(authed(ListServicesRequest { section: "registrar".into() }, &student).expect("req"))
        .await
        .expect("services")
        .into_inner()
        .services;
    assert!(services.iter().any(|s| s.code == "certificate-of-study"));
    assert!(services.iter().all(|s| s.office == "registrar" || s.section.starts_with("registrar")));

    for query in ["анықтама", "справка", "certificate", "АНЫКТАМА"] {
        let found = catalog
            .search_services(authed(SearchServicesRequest { query: query.into() }, &student).expect("req"))
            .await
            .expect("search")
            .into_inner()
            .services;
        assert!(found.iter().any(|s| s.code == "certificate-of-study"), "{query:?} finds the certificate of study");
    }
    let empty = catalog
        .search_services(authed(SearchServicesRequest { query: " ".into() }, &student).expect("req"))
        .await
        .expect_err("an empty query is refused");
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert!(empty.message().contains("query"));

    // Friday 27 November 2026, 16:00 in Almaty (UTC+5) plus 4 working hours: 1 h 45 min on Friday, the rest on
    // Monday from 9:00, so 11:15 on Monday 30 November.
    let start = Utc.with_ymd_and_hms(2026, 11, 27, 11, 0, 0).single().expect("time");
    let due = catalog
        .compute_due_date(
            authed(
                ComputeDueDateRequest { start: Some(onewindow_proto::timestamp(start)), working_hours: 4 },
                &student,
            )
            .expect("req"),
        )
        .await
        .expect("due date")
        .into_inner()
        .due
        .expect("due");
    assert_eq!(due.seconds, Utc.with_ymd_and_hms(2026, 11, 30, 6, 15, 0).single().expect("time").timestamp());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_adjust_the_calendar_and_the_section_tree() {
    let system = EmbeddedSystem::start().await;
    let admin = sign_in(&system.url, "kaznu", &admin(&system)).await.expect("admin");
    let mut catalog = CatalogServiceClient::new(channel(&system).await);

    // The university closes on Monday 30 November 2026: the due date moves to Tuesday.
    let settings = CalendarSettings {
        extra_days_off: vec![DayOff { date: "2026-11-30".into(), name: "University day".into() }],
        ..Default::default()
    };
    let invalid = CalendarSettings { opens: "25:99".into(), ..settings.clone() };
    let refused = catalog
        .define_calendar(
            authed(DefineCalendarRequest { settings: Some(invalid), expected_version: None }, &admin).expect("req"),
        )
        .await
        .expect_err("an impossible time is refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("settings.opens"), "{}", refused.message());
    catalog
        .define_calendar(
            authed(DefineCalendarRequest { settings: Some(settings), expected_version: Some(0) }, &admin).expect("req"),
        )
        .await
        .expect("defined");
    let calendar = catalog
        .get_calendar(authed(GetCalendarRequest { year: 2026 }, &admin).expect("req"))
        .await
        .expect("calendar")
        .into_inner();
    assert_eq!(calendar.version, 1);
    let days_off: Vec<_> = calendar.days_off.iter().map(|d| d.date.as_str()).collect();
    assert!(days_off.contains(&"2026-11-30") && days_off.contains(&"2026-03-24"), "{days_off:?}");
    let start = Utc.with_ymd_and_hms(2026, 11, 27, 11, 0, 0).single().expect("time");
    let due = catalog
        .compute_due_date(
            authed(ComputeDueDateRequest { start: Some(onewindow_proto::timestamp(start)), working_hours: 4 }, &admin)
                .expect("req"),
        )
        .await
        .expect("due date")
        .into_inner()
        .due
        .expect("due");
    assert_eq!(due.seconds, Utc.with_ymd_and_hms(2026, 12, 1, 6, 15, 0).single().expect("time").timestamp());

    // The other organisation's calendar is untouched.
    let other = sign_in(&system.url, "kaznmu", &system.cast("kaznmu").student).await.expect("kaznmu");
    let theirs = catalog
        .get_calendar(authed(GetCalendarRequest { year: 2026 }, &other).expect("req"))
        .await
        .expect("calendar")
        .into_inner();
    assert!(theirs.days_off.iter().all(|d| d.date != "2026-11-30"));

    let section = |code: &str, parent: &str| Section {
        code: code.into(),
        parent: parent.into(),
        name: Some(LocalizedText {
            kk: "Анықтамалар".into(), ru: "Справки".into(), en: "Certificates".into()
        }),
    };
    let orphan = catalog
        .define_section(
            authed(DefineSectionRequest { section: Some(section("orphan", "no-such-office")) }, &admin).expect("req"),
        )
        .await
        .expect_err("an unknown parent is refused");
    assert!(orphan.message().contains("section.parent"), "{}", orphan.message());
    catalog
        .define_section(
            authed(DefineSectionRequest { section: Some(section("registrar-certificates", "registrar")) }, &admin)
                .expect("req"),
        )
        .await
        .expect("defined");
    let sections = catalog.list_sections(authed(ListSectionsRequest {}, &admin).expect("req")).await.expect("list");
    assert!(
        sections.into_inner().sections.iter().any(|s| s.code == "registrar-certificates" && s.parent == "registrar")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_edit_after_submission_does_not_change_the_application() {
    let system = EmbeddedSystem::start().await;
    let cast = system.cast("kaznu");
    let student = sign_in(&system.url, "kaznu", &cast.student).await.expect("student");
    let admin = sign_in(&system.url, "kaznu", &admin(&system)).await.expect("admin");
    let channel = channel(&system).await;
    let mut catalog = CatalogServiceClient::new(channel.clone());
    let mut applications = ApplicationsServiceClient::new(channel.clone());

    let created = applications
        .create_application(
            authed(
                CreateApplicationRequest {
                    service_code: "certificate-of-study".into(),
                    document_language: Language::En as i32,
                    email: "student@example.kz".into(),
                    ..Default::default()
                },
                &student,
            )
            .expect("req"),
        )
        .await
        .expect("created")
        .into_inner()
        .application
        .expect("application");
    let submitted = applications
        .submit_application(
            authed(
                SubmitApplicationRequest {
                    application_id: created.id.clone(),
                    expected_version: Some(created.version),
                    agreed_to_terms: true,
                },
                &student,
            )
            .expect("req"),
        )
        .await
        .expect("submitted")
        .into_inner()
        .application
        .expect("application");

    // The administrator adds the library to the route and doubles the processing time.
    let current = catalog
        .get_service(
            authed(GetServiceRequest { code: "certificate-of-study".into(), version: 0 }, &admin).expect("req"),
        )
        .await
        .expect("current")
        .into_inner()
        .service
        .expect("service");
    let mut edited = current.clone();
    edited.average_processing_hours *= 2;
    let route = edited.route.as_mut().expect("route");
    route.stages[0].approvers.push(RouteApprover {
        department: "library".into(),
        position: "librarian".into(),
        ..RouteApprover::default()
    });

    // Only administrators edit, and only routes naming known departments.
    let by_student = catalog
        .define_service(
            authed(DefineServiceRequest { service: Some(edited.clone()), expected_version: None }, &student)
                .expect("req"),
        )
        .await
        .expect_err("a student cannot edit the catalog");
    assert_eq!(by_student.code(), Code::PermissionDenied);
    let mut unknown = edited.clone();
    unknown.route.as_mut().expect("route").stages[0].approvers[0].department = "no-such-department".into();
    let refused = catalog
        .define_service(
            authed(DefineServiceRequest { service: Some(unknown), expected_version: None }, &admin).expect("req"),
        )
        .await
        .expect_err("an unknown department is refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("service.route"), "{}", refused.message());
    let stale = catalog
        .define_service(
            authed(
                DefineServiceRequest { service: Some(edited.clone()), expected_version: Some(current.version - 1) },
                &admin,
            )
            .expect("req"),
        )
        .await
        .expect_err("an edit of an old version is refused");
    assert_eq!(stale.code(), Code::Aborted);

    let defined = catalog
        .define_service(
            authed(DefineServiceRequest { service: Some(edited), expected_version: Some(current.version) }, &admin)
                .expect("req"),
        )
        .await
        .expect("edited")
        .into_inner()
        .service
        .expect("service");
    assert_eq!(defined.version, current.version + 1, "an edit is a new version");

    // The submitted application keeps the version, and so the route, it was made under.
    let application = applications
        .get_application(
            authed(GetApplicationRequest { application_id: submitted.id.clone(), ..Default::default() }, &student)
                .expect("req"),
        )
        .await
        .expect("application")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(application.service_version, current.version);
    let old = catalog
        .get_service(
            authed(GetServiceRequest { code: "certificate-of-study".into(), version: current.version }, &student)
                .expect("req"),
        )
        .await
        .expect("the old version stays readable")
        .into_inner()
        .service
        .expect("service");
    assert_eq!(old, current);
    let mut routing = RoutingServiceClient::new(channel);
    let mut sheet = None;
    for _ in 0..200 {
        match routing
            .get_sheet(authed(GetSheetRequest { application_id: submitted.id.clone() }, &student).expect("req"))
            .await
        {
            Ok(found) => {
                sheet = found.into_inner().sheet;
                break;
            }
            Err(status) if status.code() == Code::NotFound => tokio::time::sleep(Duration::from_millis(25)).await,
            Err(status) => panic!("{status}"),
        }
    }
    let departments: Vec<_> = sheet.expect("the sheet opens").rows.iter().map(|r| r.department.clone()).collect();
    assert_eq!(
        departments,
        ["deans-office", "registrar"],
        "the sheet follows the route the application was made under"
    );
}
