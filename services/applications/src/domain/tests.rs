use chrono::{NaiveDate, TimeZone, Utc};
use onewindow_calendar::WorkingCalendar;
use onewindow_eventlog::{EventMetadata, OrgId, Position, RecordedEvent, StreamRef, encode, fold};
use uuid::Uuid;

use super::*;

fn service(route: Vec<RouteStep>, issues_document: &str) -> ServiceSnapshot {
    ServiceSnapshot {
        code: "certificate-of-study".into(),
        version: 1,
        name_kk: "Оқу туралы анықтама".into(),
        name_ru: "Справка об обучении".into(),
        name_en: "Certificate of study".into(),
        route,
        issues_document: issues_document.into(),
        office: "registrar".into(),
        average_processing_hours: 16,
        required_documents: vec![RequiredDocument {
            name: ServiceNames {
                kk: "Төлқұжат".into(), ru: "Удостоверение".into(), en: "Identity card".into()
            },
            max_files: 2,
            required: true,
        }],
        reasons: vec![ServiceNames {
            kk: "Виза үшін".into(), ru: "Для визы".into(), en: "For a visa".into()
        }],
        document_languages: vec![Language::Kk, Language::Ru, Language::En],
    }
}

fn library() -> Vec<RouteStep> {
    vec![
        RouteStep { stage: 1, department: "library".into(), position: "librarian".into(), required: 0 },
        RouteStep { stage: 2, department: "deans-office".into(), position: "dean".into(), required: 0 },
    ]
}

fn created_with(service: ServiceSnapshot) -> Created {
    let language = (!service.issues_document.is_empty()).then_some(Language::Kk);
    Created {
        application_id: Uuid::now_v7(),
        number: "KAZNU-2026-000001".into(),
        applicant_id: Uuid::now_v7(),
        applicant_name: "Aruzhan Serikova".into(),
        service,
        draft: Draft {
            document_language: language,
            reason_preset: Some(0),
            reason: "For a visa".into(),
            email: "aruzhan@example.kz".into(),
            phone: "+7 701 234 56 78".into(),
            own_statement: None,
        },
        applicant: ApplicantBlock { surname: "Serikova".into(), iin: "030405600123".into(), ..Default::default() },
        planned_at: None,
    }
}

fn created() -> Created {
    created_with(service(library(), "certificate_of_study"))
}

fn at(minutes: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 5, 0, 0).single().expect("time") + chrono::TimeDelta::minutes(minutes)
}

/// Applies events the way the store would hand them back, one minute apart.
fn given(events: &[ApplicationEvent]) -> Application {
    fold::<Application>(recorded(events)).expect("fold").state
}

fn recorded(events: &[ApplicationEvent]) -> Vec<RecordedEvent> {
    let org = OrgId::parse("kaznu").expect("org");
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let metadata = EventMetadata {
                occurred_at: at(i as i64),
                actor: "test".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                trace_context: None,
            };
            let new = encode(e, &metadata).expect("encode");
            RecordedEvent {
                position: Position { commit: 0, sequence: i as i64 + 1 },
                id: new.id,
                stream: StreamRef::new(&org, APPLICATION, "a"),
                version: i as i64 + 1,
                event_type: new.event_type,
                schema_version: 1,
                payload: new.payload,
                metadata: new.metadata,
            }
        })
        .collect()
}

fn attached_one() -> AttachedFiles {
    AttachedFiles { per_document: [(0, 1)].into(), ids: [Uuid::now_v7()].into() }
}

fn staff(name: &str) -> Actor {
    Actor { id: Uuid::now_v7(), name: name.into() }
}

/// Decides on the state the events so far give, and records the outcome.
fn then(
    events: &mut Vec<ApplicationEvent>,
    decide: impl FnOnce(&Application) -> Result<Vec<ApplicationEvent>, ApplicationError>,
) {
    let decided = decide(&given(events)).expect("allowed");
    events.extend(decided);
}

#[test]
fn the_happy_path_runs_through_every_status() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| react(s, Outside::SheetOpened { approver_ids: vec![Uuid::now_v7()], opened_at: None }));
    then(&mut events, |s| react(s, Outside::SheetApproved));
    let document = Outside::DocumentIssued { document_id: Uuid::now_v7(), document_number: "N-1".into() };
    then(&mut events, |s| react(s, document));
    let state = given(&events);
    assert_eq!(state.status, Some(Status::Issued));
    let statuses: Vec<_> = state.history.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [Status::Saved, Status::Submitted, Status::InWork, Status::Completed, Status::Issued]);
}

/// Each status, reached through the events that lead to it, for a service without a route or a document (so
/// staff complete and issue it themselves).
fn reach(status: Status) -> Vec<ApplicationEvent> {
    let mut events = create(&Application::default(), created_with(service(Vec::new(), ""))).expect("create");
    let steps: &[Status] = match status {
        Status::Saved => &[],
        Status::Submitted => &[Status::Submitted],
        Status::InWork => &[Status::Submitted, Status::InWork],
        Status::Completed => &[Status::Submitted, Status::InWork, Status::Completed],
        Status::Issued => &[Status::Submitted, Status::InWork, Status::Completed, Status::Issued],
        Status::Refused => &[Status::Submitted, Status::Refused],
        Status::Withdrawn => &[Status::Submitted, Status::Withdrawn],
    };
    for step in steps {
        let state = given(&events);
        let decided = match step {
            Status::Submitted => submit(&state, true, &attached_one(), None),
            Status::InWork => accept(&state, staff("Executor"), staff("Head")),
            Status::Completed => complete(&state, staff("Executor")),
            Status::Issued => issue(&state, staff("Executor")),
            Status::Refused => refuse(&state, "duplicate".into(), staff("Executor")),
            Status::Withdrawn => withdraw(&state, String::new()),
            Status::Saved => unreachable!(),
        };
        events.extend(decided.expect("allowed"));
    }
    assert_eq!(given(&events).status, Some(status));
    events
}

#[test]
fn every_transition_is_allowed_or_refused_naming_the_status() {
    use Status::*;
    type Action = fn(&Application) -> Result<Vec<ApplicationEvent>, ApplicationError>;
    let actions: [(&str, Action, &[Status]); 11] = [
        ("edit", |s| update_draft(s, s.draft.clone(), Language::En, None), &[Saved]),
        ("delete", delete_draft, &[Saved]),
        ("submit", |s| submit(s, true, &attached_one(), None), &[Saved]),
        ("accept", |s| accept(s, staff("E"), staff("H")), &[Submitted]),
        ("assign an executor to", |s| assign_executor(s, staff("Other"), staff("H")), &[InWork]),
        ("set the planned date of", |s| set_planned_date(s, at(10_000), String::new(), staff("E"), at(0)), &[InWork]),
        ("complete", |s| complete(s, staff("E")), &[InWork]),
        ("issue", |s| issue(s, staff("E")), &[Completed]),
        ("refuse", |s| refuse(s, "no grounds".into(), staff("E")), &[Submitted, InWork]),
        ("withdraw", |s| withdraw(s, "changed my mind".into()), &[Submitted, InWork]),
        (
            "comment on",
            |s| comment(s, Uuid::now_v7(), staff("A"), CommentAuthor::Applicant, "hello".into()),
            &[Submitted, InWork, Completed, Issued, Refused, Withdrawn],
        ),
    ];
    for from in [Saved, Submitted, InWork, Completed, Issued, Refused, Withdrawn] {
        let state = given(&reach(from));
        for (action, decide, allowed) in &actions {
            let outcome = decide(&state);
            if allowed.contains(&from) {
                assert!(matches!(&outcome, Ok(events) if !events.is_empty()), "{action} from {from}: {outcome:?}");
            } else {
                assert_eq!(outcome, Err(ApplicationError::InvalidTransition { from, action }), "{action} from {from}");
            }
        }
    }
}

#[test]
fn submit_reports_every_invalid_field_at_once_and_keeps_the_draft() {
    let mut c = created();
    c.draft = Draft { document_language: None, email: " ".into(), ..Draft::default() };
    let events = create(&Application::default(), c).expect("create");
    let state = given(&events);
    let Err(ApplicationError::Invalid(fields)) = submit(&state, false, &AttachedFiles::default(), None) else {
        panic!("expected invalid")
    };
    let names: Vec<_> = fields.iter().map(|(f, _)| *f).collect();
    assert_eq!(names, ["agreed_to_terms", "document_language", "reason", "email", "required_documents"]);
    assert_eq!(given(&events), state, "nothing was recorded");
}

#[test]
fn an_own_statement_replaces_the_agree_box_but_must_be_attached() {
    let mut c = created();
    let statement = Uuid::now_v7();
    c.draft.own_statement = Some(statement);
    let events = create(&Application::default(), c).expect("create");
    let state = given(&events);
    let Err(ApplicationError::Invalid(fields)) = submit(&state, false, &attached_one(), None) else { panic!() };
    assert_eq!(fields.iter().map(|(f, _)| *f).collect::<Vec<_>>(), ["own_statement"]);
    let mut files = attached_one();
    files.ids.insert(statement);
    assert!(submit(&state, false, &files, None).is_ok());
}

#[test]
fn draft_fields_are_checked_when_saved() {
    let events = create(&Application::default(), created()).expect("create");
    let state = given(&events);
    let bad = Draft {
        document_language: Some(Language::En),
        reason_preset: Some(7),
        reason: String::new(),
        email: "not-an-address".into(),
        phone: "12".into(),
        own_statement: None,
    };
    let Err(ApplicationError::Invalid(fields)) = update_draft(&state, bad, Language::En, None) else { panic!() };
    assert_eq!(fields.iter().map(|(f, _)| *f).collect::<Vec<_>>(), ["reason_preset", "email", "phone"]);
}

#[test]
fn picking_a_preset_reason_copies_its_text_in_the_chosen_language() {
    let events = create(&Application::default(), created()).expect("create");
    let draft = Draft { reason_preset: Some(0), reason: String::new(), ..given(&events).draft };
    let decided = update_draft(&given(&events), draft, Language::Ru, None).expect("saved");
    let ApplicationEvent::DraftUpdated { draft, .. } = &decided[0] else { panic!() };
    assert_eq!(draft.reason, "Для визы");
}

#[test]
fn withdrawing_in_work_needs_a_reason_and_names_the_executor_and_every_approver() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    let (librarian, dean) = (Uuid::now_v7(), Uuid::now_v7());
    then(&mut events, |s| react(s, Outside::SheetOpened { approver_ids: vec![librarian], opened_at: None }));
    let executor = staff("Executor");
    then(&mut events, |s| accept(s, executor.clone(), staff("Head")));
    let decision = ApprovalRecorded {
        application_id: Uuid::now_v7(),
        department: "deans-office".into(),
        approved: true,
        decided_by_id: dean,
        decided_by_name: "Dean".into(),
        acting_for_name: String::new(),
        note: String::new(),
        decided_at: at(5),
    };
    then(&mut events, |s| react(s, Outside::RowDecided(decision.clone())));
    // The same decision again (a redelivery) is not recorded twice.
    assert_eq!(react(&given(&events), Outside::RowDecided(decision)), Ok(Vec::new()));
    let state = given(&events);
    let Err(ApplicationError::Invalid(fields)) = withdraw(&state, "  ".into()) else { panic!("a reason is needed") };
    assert_eq!(fields[0].0, "reason");
    let decided = withdraw(&state, "I found another way".into()).expect("withdrawn");
    let ApplicationEvent::Withdrawn(withdrawn) = &decided[0] else { panic!() };
    let mut told: Vec<_> = withdrawn.notify.iter().map(|r| (r.user_id, r.role.as_str())).collect();
    told.sort();
    let mut expected = vec![(executor.id, "executor"), (librarian, "approver"), (dean, "approver")];
    expected.sort();
    assert_eq!(told, expected);
    assert_eq!(withdrawn.from_status, Status::InWork);
}

#[test]
fn withdrawing_a_submitted_application_needs_no_reason_and_tells_nobody() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    let decided = withdraw(&given(&events), String::new()).expect("withdrawn");
    let ApplicationEvent::Withdrawn(withdrawn) = &decided[0] else { panic!() };
    assert!(withdrawn.notify.is_empty());
}

#[test]
fn with_a_route_only_the_sheet_completes_and_documents_issue() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| accept(s, staff("E"), staff("E")));
    assert_eq!(complete(&given(&events), staff("E")), Err(ApplicationError::SheetNotApproved));
    then(&mut events, |s| react(s, Outside::SheetApproved));
    assert_eq!(issue(&given(&events), staff("E")), Err(ApplicationError::DocumentIssuedAutomatically));
}

#[test]
fn reactions_tolerate_redelivery_and_reordering() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    // The document arrives before routing's approval: the application completes and is issued at once.
    let document = Outside::DocumentIssued { document_id: Uuid::now_v7(), document_number: "N-1".into() };
    then(&mut events, |s| react(s, document.clone()));
    assert_eq!(given(&events).status, Some(Status::Issued));
    // The late approval and the same document again change nothing.
    for late in [Outside::SheetApproved, document] {
        assert_eq!(react(&given(&events), late), Ok(Vec::new()));
    }
    // The late opening is a fact about the sheet: recorded once, in its place in the history, and the issued
    // application stays issued (it raced the document; seen in the embedded e2e about one run in three).
    let opened =
        Outside::SheetOpened { approver_ids: Vec::new(), opened_at: Some(at(1) + chrono::TimeDelta::seconds(30)) };
    then(&mut events, |s| react(s, opened.clone()));
    let state = given(&events);
    assert_eq!(state.status, Some(Status::Issued));
    assert!(state.sheet_opened);
    assert_eq!(react(&state, opened), Ok(Vec::new()), "once");
    let changes: Vec<&str> = state.history.iter().map(|h| h.change.as_str()).collect();
    assert_eq!(changes, ["created", "submitted", "work_started", "completed", "issued"], "by when each happened");
}

/// A command that lost a race decides again with the time it began: its status change still follows the one that
/// won, as the log orders them (the embedded e2e saw "completed" shown after "issued").
#[test]
fn status_changes_keep_the_log_s_order_whatever_their_stamps() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| react(s, Outside::SheetApproved));
    then(&mut events, |s| {
        react(s, Outside::DocumentIssued { document_id: Uuid::now_v7(), document_number: "N".into() })
    });
    let mut recorded = recorded(&events);
    // The issue was decided from a command begun before the completion's.
    let completed_at = recorded[2].metadata.occurred_at;
    recorded[3].metadata.occurred_at = completed_at - chrono::TimeDelta::seconds(1);
    let state = fold::<Application>(recorded).expect("fold").state;
    let changes: Vec<&str> = state.history.iter().map(|h| h.change.as_str()).collect();
    assert_eq!(changes, ["created", "submitted", "completed", "issued"]);
}

#[test]
fn the_history_names_departments_and_decisions() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| react(s, Outside::SheetOpened { approver_ids: Vec::new(), opened_at: None }));
    let rejected = ApprovalRecorded {
        application_id: Uuid::now_v7(),
        department: "library".into(),
        approved: false,
        decided_by_id: Uuid::now_v7(),
        decided_by_name: "Librarian".into(),
        acting_for_name: "Head librarian".into(),
        note: "two books not returned".into(),
        decided_at: at(3),
    };
    then(&mut events, |s| react(s, Outside::RowDecided(rejected)));
    let last = given(&events).history.pop().expect("history");
    assert_eq!(
        (last.status, last.department.as_str(), last.approved, last.remark.as_str(), last.performer.as_str()),
        (Status::InWork, "library", Some(false), "two books not returned", "Librarian (acting for Head librarian)")
    );
}

#[test]
fn a_deleted_draft_is_gone() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, delete_draft);
    let state = given(&events);
    assert!(!state.exists());
    assert_eq!(submit(&state, true, &attached_one(), None), Err(ApplicationError::NotFound));
}

#[test]
fn a_missing_application_is_not_found() {
    assert_eq!(submit(&Application::default(), true, &attached_one(), None), Err(ApplicationError::NotFound));
    assert_eq!(react(&Application::default(), Outside::SheetApproved), Err(ApplicationError::NotFound));
}

#[test]
fn numbers_are_readable() {
    assert_eq!(format_number("kaznu", 2026, 42), "KAZNU-2026-000042");
}

fn kz(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<Utc> {
    // Kazakhstan is UTC+5.
    let local = NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 0)).expect("date");
    Utc.from_utc_datetime(&(local - chrono::TimeDelta::hours(5)))
}

#[test]
fn the_planned_date_skips_the_weekend_and_a_holiday() {
    let calendar = WorkingCalendar::kazakhstan_2026_2027();
    let mut s = service(Vec::new(), "");
    // 16 working hours = 2 days less 90 minutes of 8 h 45 min days.
    s.average_processing_hours = 16;
    // Friday 11 December 2026, 15:00. Left on Friday: 2 h 45 min; Mon 14: 8 h 45 min; Tue 15: 4 h 30 min → Tue 13:30.
    assert_eq!(planned_completion(&calendar, kz(2026, 12, 11, 15, 0), &s), Some(kz(2026, 12, 15, 13, 30)));
    // Tuesday 15 December, 15:00: Wed 16 December is Independence Day, so Tue (2:45) + Thu 17 (8:45) + Fri 18
    // (4:30) → Friday 18 December, 13:30.
    assert_eq!(planned_completion(&calendar, kz(2026, 12, 15, 15, 0), &s), Some(kz(2026, 12, 18, 13, 30)));
    s.average_processing_hours = 0;
    assert_eq!(planned_completion(&calendar, kz(2026, 12, 15, 15, 0), &s), None);
}

#[test]
fn time_left_counts_working_time_and_goes_negative_when_overdue() {
    let calendar = WorkingCalendar::kazakhstan_2026_2027();
    let planned = kz(2026, 12, 15, 13, 30);
    let left = time_left(&calendar, kz(2026, 12, 11, 15, 0), planned);
    assert_eq!((left.working_minutes, left.display.as_str()), (960, "1 d 7 h 15 min"));
    let late = time_left(&calendar, kz(2026, 12, 15, 14, 31), planned);
    assert_eq!((late.working_minutes, late.display.as_str()), (-61, "-0 d 1 h 1 min"));
}

#[test]
fn why_late_shows_where_the_time_went() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| react(s, Outside::SheetOpened { approver_ids: Vec::new(), opened_at: None }));
    let approval = |department: &str, minutes| ApprovalRecorded {
        application_id: Uuid::now_v7(),
        department: department.into(),
        approved: true,
        decided_by_id: Uuid::now_v7(),
        decided_by_name: "A".into(),
        acting_for_name: String::new(),
        note: String::new(),
        decided_at: at(minutes),
    };
    // at(0) is Monday 23 November 2026, 10:00 in Almaty. The library takes 3 hours, the dean 30 minutes more.
    then(&mut events, |s| react(s, Outside::RowDecided(approval("library", 180))));
    then(&mut events, |s| react(s, Outside::RowDecided(approval("deans-office", 210))));
    let state = given(&events);
    let calendar = WorkingCalendar::kazakhstan_2026_2027();
    let report = why_late(&state, &calendar, at(240)).expect("submitted");
    let steps: Vec<_> = report.steps.iter().map(|s| (s.kind, s.department.as_str(), s.working_minutes)).collect();
    // Submitted at minute 1, opened at minute 2; completion waits since the dean's approval at minute 210.
    assert_eq!(
        steps,
        [("acceptance", "", 1), ("approval", "library", 178), ("approval", "deans-office", 30), ("completion", "", 30)]
    );
    assert_eq!(report.longest, Some(1));
    assert_eq!((report.total_working_minutes, report.standard_working_minutes), (239, Some(960)));
    assert_eq!(report.over_standard_minutes, 0);
    assert!(why_late(&given(&events[..1]), &calendar, at(240)).is_none(), "a draft has no way yet");
}

#[test]
fn as_of_replays_a_prefix_of_the_log() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| refuse(s, "duplicate".into(), staff("E")));
    let past = as_of(recorded(&events), at(1)).expect("fold");
    assert_eq!(past.status, Some(Status::Submitted));
    assert!(as_of(recorded(&events), at(-1)).expect("fold").created.is_none());
}

#[test]
fn a_decision_that_arrives_after_the_document_takes_its_place_in_the_history() {
    let mut events = create(&Application::default(), created()).expect("create");
    then(&mut events, |s| submit(s, true, &attached_one(), None));
    then(&mut events, |s| react(s, Outside::SheetOpened { approver_ids: Vec::new(), opened_at: None }));
    let document = Outside::DocumentIssued { document_id: Uuid::now_v7(), document_number: "N-1".into() };
    then(&mut events, |s| react(s, document));
    let late = ApprovalRecorded {
        application_id: Uuid::now_v7(),
        department: "library".into(),
        approved: true,
        decided_by_id: Uuid::now_v7(),
        decided_by_name: "Librarian".into(),
        acting_for_name: String::new(),
        note: String::new(),
        // Made before the document was issued (event 3), delivered after it.
        decided_at: at(2),
    };
    then(&mut events, |s| react(s, Outside::RowDecided(late.clone())));
    let state = given(&events);
    assert_eq!(state.status, Some(Status::Issued), "a late decision does not move the application back");
    let changes: Vec<_> = state.history.iter().map(|h| (h.change.as_str(), h.status)).collect();
    assert_eq!(
        changes,
        [
            ("created", Status::Saved),
            ("submitted", Status::Submitted),
            ("work_started", Status::InWork),
            ("approval_recorded", Status::InWork),
            ("completed", Status::Completed),
            ("issued", Status::Issued)
        ]
    );
    assert_eq!(react(&state, Outside::RowDecided(late)), Ok(Vec::new()), "and only once");
}

#[test]
fn a_form_not_issued_long_after_the_submission_is_delayed_not_in_a_moment() {
    let events = reach(Status::Submitted);
    let state = given(&events);
    let submitted = state.submitted_at.expect("submitted");
    let soon = submitted + chrono::TimeDelta::seconds(10);
    assert_eq!(printable_form(&state, soon), Err(ApplicationError::FormNotIssuedYet));
    let later = submitted + FORM_EXPECTED_WITHIN + chrono::TimeDelta::seconds(1);
    assert_eq!(printable_form(&state, later), Err(ApplicationError::FormDelayed));
    assert!(!ApplicationError::FormDelayed.to_string().contains("in a moment"));
}
