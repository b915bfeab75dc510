use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;
use uuid::Uuid;

use chrono::{Duration, TimeZone};
use serde_json::json;

use super::*;

fn application() -> ApplicationSummary {
    ApplicationSummary {
        application_id: Uuid::now_v7(),
        number: "KZ-2026-000042".into(),
        applicant_id: Uuid::now_v7(),
        applicant_name: "Aruzhan Serikova".into(),
        service_code: "clearance_sheet".into(),
        service_name: "Clearance sheet".into(),
        issues_document: "certificate_of_study".into(),
        document_language: Some(onewindow_contracts::Language::Kk),
    }
}

fn calendar() -> WorkingCalendar {
    WorkingCalendar::kazakhstan_2026_2027()
}

fn route(steps: &[(i32, &str)]) -> Vec<RouteStep> {
    steps
        .iter()
        .map(|(stage, department)| RouteStep {
            stage: *stage,
            department: (*department).into(),
            position: format!("Head of {department}"),
            ..RouteStep::default()
        })
        .collect()
}

fn open_route(route: Vec<RouteStep>) -> Vec<SheetEvent> {
    decide_open(OpenSheet { application: application(), route, now: at(0) }, &calendar()).expect("the sheet opens")
}

/// A route whose stage `stage` needs `required` approvals.
fn with_quorum(steps: &[(i32, &str)], stage: i32, required: u32) -> Vec<SheetEvent> {
    let mut route = route(steps);
    for step in route.iter_mut().filter(|s| s.stage == stage) {
        step.required = required;
    }
    open_route(route)
}

/// Monday 23 November 2026, 11:mm in Almaty (UTC+5): a working day.
fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 6, minute, 0).single().expect("a valid time")
}

fn given(events: &[SheetEvent]) -> Sheet {
    let mut sheet = Sheet::default();
    for event in events {
        apply(&mut sheet, event);
    }
    sheet
}

fn opened(steps: &[(i32, &str)]) -> Vec<SheetEvent> {
    open_route(route(steps))
}

fn person_of(department: &str) -> Approver {
    Approver {
        user_id: Uuid::now_v7(),
        full_name: format!("Approver of {department}"),
        position: format!("Head of {department}"),
        department: department.into(),
        mandates: Vec::new(),
    }
}

fn command(department: &str, decision: Decision, note: &str) -> DecideCommand {
    DecideCommand { approver: person_of(department), decision, note: note.into(), now: at(30) }
}

fn approve(department: &str) -> DecideCommand {
    command(department, Decision::Approve, "")
}

fn reject(department: &str, note: &str) -> DecideCommand {
    command(department, Decision::Reject, note)
}

/// Decides, then folds the new events into the history.
fn when(history: &mut Vec<SheetEvent>, command: DecideCommand) -> Result<Vec<SheetEvent>, SheetError> {
    let events = decide(&given(history), command)?;
    history.extend(events.iter().cloned());
    Ok(events)
}

fn answer(history: &mut Vec<SheetEvent>, row: u32, comment: &str) -> Result<Vec<SheetEvent>, SheetError> {
    let sheet = given(history);
    let command =
        AnswerCommand { applicant_id: sheet.application.applicant_id, row, comment: comment.into(), now: at(40) };
    let events = decide_answer(&sheet, command)?;
    history.extend(events.iter().cloned());
    Ok(events)
}

fn approvals_in(events: &[SheetEvent]) -> Vec<&SheetApproved> {
    events.iter().filter_map(|e| if let SheetEvent::Approved(a) = e { Some(a) } else { None }).collect()
}

#[test]
fn any_one_approver_of_a_stage_is_enough() {
    let mut history = with_quorum(&[(1, "dean"), (1, "vice-dean"), (2, "registrar")], 1, 1);
    assert!(given(&history).awaits("dean") && given(&history).awaits("vice-dean"));
    assert!(when(&mut history, approve("vice-dean")).expect("approved").len() == 1, "the sheet stays open");
    let sheet = given(&history);
    assert_eq!(sheet.current_stage(), Some(2));
    assert!(!sheet.awaits("dean"), "the dean's row is no longer needed");
    assert_eq!(sheet.progress_percent(), 50);
    assert_eq!(when(&mut history, approve("dean")), Err(SheetError::NoLongerNeeded(1)));
    let events = when(&mut history, approve("registrar")).expect("approved");
    let approved = approvals_in(&events);
    assert_eq!(approved.len(), 1, "one completion");
    let who: Vec<_> = approved[0].approvals.iter().map(|a| a.department.as_str()).collect();
    assert_eq!(who, ["vice-dean", "registrar"], "the document names those who approved");
    assert_eq!(given(&history).progress_percent(), 100);
}

#[test]
fn a_committee_needs_its_quorum_and_a_rejection_among_enough_approvals_is_only_recorded() {
    let members = [(1, "member-a"), (1, "member-b"), (1, "member-c")];
    let mut history = with_quorum(&members, 1, 2);
    let events = when(&mut history, reject("member-a", "Not convinced")).expect("recorded");
    assert_eq!(events.len(), 1);
    assert_eq!(given(&history).status, SheetStatus::Open);
    when(&mut history, approve("member-b")).expect("approved");
    assert_eq!(given(&history).progress_percent(), 50);
    let events = when(&mut history, approve("member-c")).expect("approved");
    assert_eq!(approvals_in(&events).len(), 1, "two of three approved");
    let who: Vec<_> = approvals_in(&events)[0].approvals.iter().map(|a| a.department.as_str()).collect();
    assert_eq!(who, ["member-b", "member-c"], "the rejection is not an approval");

    // Two rejections of three: the stage waits for rework instead of failing.
    let mut history = with_quorum(&members, 1, 2);
    when(&mut history, reject("member-a", "No")).expect("recorded");
    let events = when(&mut history, reject("member-b", "No")).expect("recorded");
    assert_eq!(events.len(), 1, "no sheet.rejected: rework is asked for");
    assert_eq!(given(&history).status, SheetStatus::Open);
    assert_eq!(given(&history).current_stage(), Some(1));
}

#[test]
fn all_of_stays_the_default() {
    let mut history = opened(&[(1, "library"), (1, "dormitory")]);
    when(&mut history, approve("library")).expect("approved");
    assert_eq!(given(&history).current_stage(), Some(1));
    let events = when(&mut history, approve("dormitory")).expect("approved");
    assert_eq!(approvals_in(&events).len(), 1);
    // A quorum larger than the stage means all of it.
    let mut history = with_quorum(&[(1, "library"), (1, "dormitory")], 1, 5);
    when(&mut history, approve("library")).expect("approved");
    assert_eq!(given(&history).current_stage(), Some(1));
}

#[test]
fn parallel_approvers_both_approve_and_the_sheet_is_approved_once() {
    let mut history = opened(&[(1, "library"), (1, "dormitory")]);
    let first = when(&mut history, approve("dormitory")).expect("dormitory approves");
    assert!(matches!(first.as_slice(), [SheetEvent::RowDecided(d)] if d.row == 1 && d.decision == Decision::Approve));
    assert_eq!(given(&history).progress_percent(), 50);

    let second = when(&mut history, approve("library")).expect("library approves");
    assert!(matches!(second.first(), Some(SheetEvent::RowDecided(d)) if d.row == 0));
    let approved = approvals_in(&history);
    assert_eq!(approved.len(), 1, "exactly one sheet.approved");
    let departments: Vec<&str> = approved[0].approvals.iter().map(|a| a.department.as_str()).collect();
    assert_eq!(departments, ["library", "dormitory"]);
    assert_eq!(approved[0].approvals[1].full_name, "Approver of dormitory");
    assert_eq!(approved[0].approvals[1].decided_at, at(30));
    assert_eq!(approved[0].application, given(&history).application);
    let sheet = given(&history);
    assert_eq!(sheet.status, SheetStatus::Approved);
    assert_eq!(sheet.progress_percent(), 100);
}

#[test]
fn a_later_stage_waits_for_the_earlier_one() {
    let mut history = opened(&[(2, "dean"), (1, "library")]);
    assert!(given(&history).awaits("library"));
    assert!(!given(&history).awaits("dean"));
    assert_eq!(when(&mut history, approve("dean")), Err(SheetError::StageNotReached { stage: 2, current: 1 }));

    let first = when(&mut history, approve("library")).expect("library approves");
    assert_eq!(first.len(), 1, "stage 2 is still pending");
    assert!(given(&history).awaits("dean"));
    let second = when(&mut history, approve("dean")).expect("now the dean can decide");
    assert_eq!(approvals_in(&second).len(), 1);
    let departments: Vec<&str> = approvals_in(&second)[0].approvals.iter().map(|a| a.department.as_str()).collect();
    assert_eq!(departments, ["library", "dean"], "rows are kept in stage order");
}

#[test]
fn a_mixed_route_runs_a_parallel_any_of_stage_then_a_single_approver() {
    let mut route = route(&[(1, "library"), (1, "dormitory"), (2, "accounting"), (2, "bursary"), (3, "dean")]);
    for step in route.iter_mut().filter(|s| s.stage == 2) {
        step.required = 1;
    }
    let mut history = open_route(route);
    when(&mut history, approve("library")).expect("library");
    assert_eq!(when(&mut history, approve("bursary")), Err(SheetError::StageNotReached { stage: 2, current: 1 }));
    when(&mut history, approve("dormitory")).expect("dormitory");
    when(&mut history, approve("bursary")).expect("bursary: any one of stage 2");
    assert_eq!(given(&history).progress_percent(), 75);
    assert_eq!(given(&history).current_stage(), Some(3));
    let events = when(&mut history, approve("dean")).expect("dean");
    assert_eq!(approvals_in(&events).len(), 1);
}

#[test]
fn a_rejection_needs_a_note() {
    let mut history = opened(&[(1, "library")]);
    assert_eq!(when(&mut history, reject("library", "  ")), Err(SheetError::NoteRequired));
    assert_eq!(given(&history).status, SheetStatus::Open);
}

#[test]
fn a_rejection_asks_for_rework_and_the_approver_approves_after_the_answer() {
    let mut history = opened(&[(1, "library"), (1, "dormitory"), (2, "dean")]);
    let events = when(&mut history, reject("library", " Return the borrowed books ")).expect("library rejects");
    assert!(
        matches!(events.as_slice(), [SheetEvent::RowDecided(d)] if d.decision == Decision::Reject && d.note == "Return the borrowed books"),
        "the sheet stays open: {events:?}"
    );
    let sheet = given(&history);
    assert_eq!(sheet.status, SheetStatus::Open);
    assert_eq!(sheet.rows[0].status(), RowStatus::Rejected);
    assert!(!sheet.awaits("library"), "the library waits for the applicant");
    assert_eq!(when(&mut history, approve("library")), Err(SheetError::AwaitingAnswer));

    // The other parallel approver goes on; the next stage waits for the rework (the seed's sequential rule).
    when(&mut history, approve("dormitory")).expect("dormitory approves meanwhile");
    assert_eq!(given(&history).current_stage(), Some(1));
    assert_eq!(when(&mut history, approve("dean")), Err(SheetError::StageNotReached { stage: 2, current: 1 }));

    // Only the applicant answers, only a rejected row, and with a comment.
    let sheet = given(&history);
    let stranger = AnswerCommand { applicant_id: Uuid::now_v7(), row: 0, comment: "hi".into(), now: at(35) };
    assert_eq!(decide_answer(&sheet, stranger), Err(SheetError::NotTheApplicant));
    assert_eq!(answer(&mut history, 1, "returned"), Err(SheetError::NothingToAnswer(1)));
    assert_eq!(answer(&mut history, 0, " "), Err(SheetError::CommentRequired));
    let answered = answer(&mut history, 0, " Returned both books today ").expect("answered");
    assert!(matches!(answered.as_slice(), [SheetEvent::ReworkAnswered(a)] if a.comment == "Returned both books today"));
    assert!(given(&history).awaits("library"), "back in the library's inbox");

    let events = when(&mut history, approve("library")).expect("the library approves now");
    assert_eq!(events.len(), 1, "stage 2 still to come");
    let sheet = given(&history);
    assert_eq!(sheet.rows[1].status(), RowStatus::Approved, "the approval given stands");
    let kinds: Vec<MessageKind> = sheet.rows[0].conversation.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MessageKind::Rejection, MessageKind::Answer, MessageKind::Approval]);
    assert_eq!(sheet.rows[0].conversation[1].by_name, "Aruzhan Serikova");
    let approved = when(&mut history, approve("dean")).expect("dean");
    assert_eq!(approvals_in(&approved).len(), 1);
}

#[test]
fn a_closed_sheet_takes_no_decisions() {
    let mut history = opened(&[(1, "library")]);
    let closed = decide_close(&given(&history), "withdrawn: changed my mind");
    assert!(matches!(closed.as_slice(), [SheetEvent::Closed(c)] if c.reason == "withdrawn: changed my mind"));
    history.extend(closed);
    assert_eq!(given(&history).status, SheetStatus::Closed);
    assert_eq!(when(&mut history, approve("library")), Err(SheetError::Closed(SheetStatus::Closed)));
    assert!(decide_close(&given(&history), "again").is_empty(), "closing twice is nothing");
}

#[test]
fn a_department_decides_its_row_once() {
    let mut history = opened(&[(1, "library"), (1, "dormitory")]);
    when(&mut history, approve("library")).expect("library approves");
    assert_eq!(when(&mut history, approve("library")), Err(SheetError::AlreadyDecided));
    assert_eq!(when(&mut history, reject("library", "changed my mind")), Err(SheetError::AlreadyDecided));
}

#[test]
fn a_department_with_two_rows_decides_them_one_by_one() {
    let mut history = opened(&[(1, "dormitory"), (1, "dormitory"), (2, "dean")]);
    let first = when(&mut history, approve("dormitory")).expect("first dormitory row");
    assert!(matches!(&first[0], SheetEvent::RowDecided(d) if d.row == 0));
    let second = when(&mut history, approve("dormitory")).expect("second dormitory row");
    assert!(matches!(&second[0], SheetEvent::RowDecided(d) if d.row == 1));
    assert!(given(&history).awaits("dean"));
}

#[test]
fn an_approver_of_another_department_is_refused() {
    let mut history = opened(&[(1, "library")]);
    assert_eq!(when(&mut history, approve("accounting")), Err(SheetError::NotAnApprover));
    assert_eq!(SheetError::NotAnApprover.to_string(), "you are not an approver on this sheet");
}

#[test]
fn a_row_of_named_people_is_decided_by_them_not_by_their_colleagues() {
    let librarian = person_of("library");
    let mut steps = route(&[(1, "library")]);
    steps[0].approver_ids = vec![librarian.user_id];
    steps[0].approver_names = vec![librarian.full_name.clone()];
    let mut history = open_route(steps);
    let colleague = approve("library");
    assert_eq!(when(&mut history, colleague), Err(SheetError::NotAnApprover));
    let own = DecideCommand { approver: librarian, decision: Decision::Approve, note: String::new(), now: at(31) };
    let events = when(&mut history, own).expect("the named librarian decides");
    assert_eq!(approvals_in(&events)[0].approvals[0].full_name, "Approver of library");
}

#[test]
fn a_substitute_decides_for_the_approver_and_both_names_are_kept() {
    let head = person_of("library");
    let mut steps = route(&[(1, "library"), (1, "dormitory")]);
    steps[0].approver_ids = vec![head.user_id];
    steps[0].approver_names = vec![head.full_name.clone()];
    let mut history = open_route(steps);

    let mut deputy = person_of("reading-room");
    deputy.full_name = "Deputy Librarian".into();
    let without =
        DecideCommand { approver: deputy.clone(), decision: Decision::Approve, note: String::new(), now: at(31) };
    assert_eq!(when(&mut history, without), Err(SheetError::NotAnApprover));

    deputy.mandates =
        vec![Mandate { for_id: Some(head.user_id), for_name: head.full_name.clone(), ..Mandate::default() }];
    assert!(given(&history).names(&deputy));
    assert_eq!(given(&history).rows_awaiting(&deputy).len(), 1, "in the substitute's inbox");
    let with =
        DecideCommand { approver: deputy.clone(), decision: Decision::Approve, note: String::new(), now: at(31) };
    let events = when(&mut history, with).expect("the substitute decides");
    assert!(matches!(&events[0], SheetEvent::RowDecided(d)
        if d.decided_by_name == "Deputy Librarian" && d.acting_for_id == Some(head.user_id)
            && d.acting_for_name == "Approver of library"));

    // An administrator's delegation for a post: whoever holds "Head of dormitory".
    let mut acting = person_of("service-centre");
    acting.mandates = vec![Mandate {
        for_id: None,
        for_name: "Head of dormitory".into(),
        department: "dormitory".into(),
        position: "Head of dormitory".into(),
    }];
    let events = when(
        &mut history,
        DecideCommand { approver: acting, decision: Decision::Approve, note: String::new(), now: at(32) },
    )
    .expect("decided for the post");
    let approved = approvals_in(&events);
    assert_eq!(approved[0].approvals[0].acting_for, "Approver of library");
    assert_eq!(approved[0].approvals[1].acting_for, "Head of dormitory");
    assert_eq!(serde_json::to_value(&approved[0].approvals[0]).expect("json")["acting_for"], "Approver of library");
}

#[test]
fn a_signatory_signs_last_and_the_signature_hashes_what_was_signed() {
    let mut steps = route(&[(1, "library"), (2, "rectorate")]);
    steps[1].signatory = true;
    steps[1].position = "Vice-rector".into();
    let mut history = open_route(steps);
    let vice_rector = Approver { position: "Vice-rector for academic affairs".into(), ..person_of("rectorate") };
    let sign = |history: &Vec<SheetEvent>| {
        decide_sign(&given(history), SignCommand { signatory: vice_rector.clone(), now: at(50) })
    };
    assert_eq!(sign(&history), Err(SheetError::StageNotReached { stage: 2, current: 1 }));
    when(&mut history, approve("library")).expect("library");
    assert_eq!(when(&mut history, approve("rectorate")), Err(SheetError::SignatoryRow));

    let events = sign(&history).expect("signed");
    let [SheetEvent::RowDecided(decided), SheetEvent::Signed(signed), SheetEvent::Approved(approved)] =
        events.as_slice()
    else {
        panic!("a decision, a signature and the approval: {events:?}")
    };
    assert_eq!(decided.row, 1);
    assert_eq!(signed.signed_by_name, "Approver of rectorate");
    assert_eq!(signed.position, "Vice-rector for academic affairs");
    assert_eq!(signed.signed_at, at(50));
    let sheet = given(&history);
    let expected = SignedContent { application: &sheet.application, approvals: &approved.approvals[..1] }.sha256();
    assert_eq!(signed.sha256, expected);
    assert_eq!(signed.sha256.len(), 64);
    history.extend(events.iter().cloned());
    assert_eq!(given(&history).signatures.len(), 1);
    assert_eq!(sign(&history), Err(SheetError::Closed(SheetStatus::Approved)));
}

fn timed(steps: &[(i32, &str)], hours: u32, silence: Silence) -> Vec<SheetEvent> {
    let mut route = route(steps);
    for step in route.iter_mut() {
        step.time_limit_hours = hours;
        step.on_silence = silence;
        step.approver_ids = vec![Uuid::now_v7()];
    }
    open_route(route)
}

#[test]
fn a_time_limit_reminds_once_before_and_escalates_once_after() {
    let history = timed(&[(1, "library"), (2, "dean")], 8, Silence::None);
    let sheet = given(&history);
    // Opened Monday 11:00 local; 8 working hours (lunch 13:00–14:00) end Tuesday 11:45? The calendar says.
    let (stage, deadline) = sheet.deadline(&calendar()).expect("a deadline");
    assert_eq!(stage, 1);
    assert_eq!(Some(deadline), sheet.rows[0].step.deadline_at, "sheet.opened carries the first deadline");
    assert!(sheet.rows[1].step.deadline_at.is_none(), "a later stage's deadline starts with the stage");
    assert_eq!(deadline_due(&sheet, &calendar(), at(1)), None, "far from the limit");

    let almost = deadline - Duration::minutes(30);
    let Some(DeadlineDue::Remind { notify, .. }) = deadline_due(&sheet, &calendar(), almost) else {
        panic!("a reminder is due")
    };
    assert_eq!(notify, sheet.rows[0].step.approver_ids, "the pending approvers");
    let mut history = history;
    let due = deadline_due(&sheet, &calendar(), almost).expect("due");
    history.extend(decide_deadline(&sheet, due, Vec::new(), almost));
    assert_eq!(deadline_due(&given(&history), &calendar(), almost), None, "reminded once");

    let late = deadline + Duration::minutes(1);
    let due = deadline_due(&given(&history), &calendar(), late).expect("escalation due");
    assert!(matches!(&due, DeadlineDue::Escalate { departments, .. } if departments == &["library".to_owned()]));
    let head = Uuid::now_v7();
    let events = decide_deadline(&given(&history), due, vec![head], late);
    assert!(matches!(events.as_slice(), [SheetEvent::DeadlineEscalated(n)] if n.notify == [head] && n.stage == 1));
    history.extend(events);
    assert_eq!(deadline_due(&given(&history), &calendar(), late), None, "escalated once");
    assert_eq!(given(&history).status, SheetStatus::Open, "nothing decided for anyone");
}

#[test]
fn silence_is_consent_where_the_passport_says_so_and_the_next_stage_gets_its_own_time() {
    let mut history = timed(&[(1, "library"), (1, "dormitory"), (2, "dean")], 4, Silence::Approve);
    let mut librarian = person_of("library");
    librarian.user_id = given(&history).rows[0].step.approver_ids[0];
    when(
        &mut history,
        DecideCommand { approver: librarian, decision: Decision::Approve, note: String::new(), now: at(10) },
    )
    .expect("the library decides in time");
    let (_, deadline) = given(&history).deadline(&calendar()).expect("deadline");
    let late = deadline + Duration::minutes(5);
    let due = deadline_due(&given(&history), &calendar(), late).expect("due");
    assert!(matches!(due, DeadlineDue::Deem { stage: 1, decision: Decision::Approve, .. }));
    let events = decide_deadline(&given(&history), due, Vec::new(), late);
    assert!(
        matches!(events.as_slice(), [SheetEvent::RowDecided(d)] if d.deemed && d.row == 1 && d.decided_by_id.is_nil())
    );
    history.extend(events);
    let sheet = given(&history);
    assert_eq!(sheet.rows[1].status(), RowStatus::Approved, "the dormitory's silence is consent");
    assert_eq!(sheet.current_stage(), Some(2));
    assert_eq!(sheet.stage_started_at(2), Some(late));
    let (_, second) = sheet.deadline(&calendar()).expect("stage 2 deadline");
    assert_eq!(second, calendar().add_working_hours(late, 4));
    assert_eq!(deadline_due(&sheet, &calendar(), late), None);

    let later = second + Duration::minutes(1);
    let due = deadline_due(&sheet, &calendar(), later).expect("due");
    let events = decide_deadline(&sheet, due, Vec::new(), later);
    let approved = approvals_in(&events);
    assert_eq!(approved.len(), 1, "deemed through to the end");
    assert_eq!(approved[0].approvals.len(), 3);
    assert!(approved[0].approvals[2].note.contains("deemed approved"));
    assert_eq!(approved[0].approvals[2].full_name, "Head of dean", "no names recorded: the post is named instead");
}

#[test]
fn a_stage_waiting_only_for_the_applicants_answer_is_not_chased() {
    let mut history = timed(&[(1, "library"), (1, "dormitory")], 2, Silence::None);
    for (row, department) in [(0, "library"), (1, "dormitory")] {
        let mut approver = person_of(department);
        approver.user_id = given(&history).rows[row].step.approver_ids[0];
        let approve = DecideCommand { approver, decision: Decision::Approve, note: String::new(), now: at(5) };
        let reject = DecideCommand { decision: Decision::Reject, note: "Sign page 2".into(), ..approve.clone() };
        when(&mut history, if row == 0 { reject } else { approve }).expect("decided");
    }
    let (_, deadline) = given(&history).deadline(&calendar()).expect("deadline");
    let late = deadline + Duration::hours(1);
    assert_eq!(deadline_due(&given(&history), &calendar(), late), None, "the applicant owes the answer");
    answer(&mut history, 0, "Signed").expect("answered");
    let due = deadline_due(&given(&history), &calendar(), late).expect("the library owes a decision again");
    assert!(matches!(due, DeadlineDue::Escalate { departments, .. } if departments == ["library"]));
}

#[test]
fn silence_is_refusal_where_the_passport_says_so() {
    let history = timed(&[(1, "library")], 2, Silence::Reject);
    let sheet = given(&history);
    let (_, deadline) = sheet.deadline(&calendar()).expect("deadline");
    let due = deadline_due(&sheet, &calendar(), deadline).expect("due at the limit");
    let events = decide_deadline(&sheet, due, Vec::new(), deadline);
    assert!(matches!(events.as_slice(), [SheetEvent::RowDecided(d)] if d.deemed && d.decision == Decision::Reject));
    let mut history = history;
    history.extend(events);
    assert_eq!(given(&history).status, SheetStatus::Open, "a deemed rejection waits for rework too");
}

#[test]
fn nothing_is_decided_on_a_sheet_that_was_never_opened() {
    assert_eq!(decide(&Sheet::default(), approve("library")), Err(SheetError::NotFound));
}

#[test]
fn an_empty_route_approves_at_once() {
    let events = opened(&[]);
    assert!(matches!(events.as_slice(), [SheetEvent::Opened(_), SheetEvent::Approved(a)] if a.approvals.is_empty()));
    let sheet = given(&events);
    assert_eq!(sheet.status, SheetStatus::Approved);
    assert_eq!(sheet.progress_percent(), 100);
    assert_eq!(decide(&sheet, approve("library")), Err(SheetError::Closed(SheetStatus::Approved)));
}

#[test]
fn a_route_without_stages_or_departments_makes_no_sheet() {
    let open = |route| decide_open(OpenSheet { application: application(), route, now: at(0) }, &calendar());
    assert!(matches!(open(route(&[(0, "library")])), Err(SheetError::InvalidRoute(_))));
    assert!(matches!(open(route(&[(1, " ")])), Err(SheetError::InvalidRoute(_))));
}

#[test]
fn payloads_follow_the_event_contract() {
    let mut history = opened(&[(1, "library")]);
    when(&mut history, reject("library", "Return the borrowed books")).expect("library rejects");
    answer(&mut history, 0, "Returned").expect("answered");
    when(&mut history, approve("library")).expect("library approves");
    let sheet = given(&history);
    let application_id = sheet.application.application_id.to_string();
    let applicant_id = sheet.application.applicant_id.to_string();
    let payloads: Vec<serde_json::Value> = history.iter().map(|e| serde_json::to_value(e).expect("encodes")).collect();
    let summary = json!({
        "application_id": application_id, "number": "KZ-2026-000042", "applicant_id": applicant_id,
        "applicant_name": "Aruzhan Serikova", "service_code": "clearance_sheet", "service_name": "Clearance sheet",
        "issues_document": "certificate_of_study", "document_language": "kk",
    });
    let mut opened = summary.clone();
    opened["rows"] =
        json!([{ "stage": 1, "department": "library", "position": "Head of library", "approver_ids": [] }]);
    opened["opened_at"] = json!("2026-11-23T06:00:00Z");
    assert_eq!(payloads[0], json!({ "type": "sheet.opened", "payload": opened }));

    let SheetEvent::RowDecided(rejected) = &history[1] else { panic!("a row decision") };
    assert_eq!(
        payloads[1],
        json!({ "type": "sheet.row_decided", "payload": {
            "application_id": application_id, "row": 0, "department": "library", "decision": "rejected",
            "decided_by_id": rejected.decided_by_id.to_string(), "decided_by_name": "Approver of library",
            "decided_by_position": "Head of library", "note": "Return the borrowed books",
            "decided_at": "2026-11-23T06:30:00Z",
        }})
    );
    assert_eq!(
        payloads[2],
        json!({ "type": "sheet.rework_answered", "payload": {
            "application_id": application_id, "row": 0, "comment": "Returned", "answered_by_id": applicant_id,
            "answered_at": "2026-11-23T06:40:00Z",
        }})
    );

    let mut approved = summary;
    approved["approvals"] = json!([{
        "full_name": "Approver of library", "position": "Head of library", "department": "library",
        "decided_at": "2026-11-23T06:30:00Z", "note": "",
    }]);
    assert_eq!(payloads[4], json!({ "type": "sheet.approved", "payload": approved }));

    let back: Vec<SheetEvent> = payloads.into_iter().map(|p| serde_json::from_value(p).expect("decodes")).collect();
    assert_eq!(back, history);
}

#[test]
fn sheets_and_rows_recorded_before_deadlines_and_rework_still_read() {
    let old = json!({ "type": "sheet.opened", "payload": {
        "application_id": Uuid::now_v7(), "number": "KZ-2026-000001", "applicant_id": Uuid::now_v7(),
        "applicant_name": "A", "service_code": "s", "service_name": "S", "issues_document": "",
        "document_language": "kk", "rows": [{ "stage": 1, "department": "library", "position": "Librarian" }],
    }});
    let event: SheetEvent = serde_json::from_value(old).expect("an old sheet.opened reads");
    let sheet = given(&[event]);
    assert!(sheet.rows[0].step.approver_ids.is_empty());
    assert!(sheet.awaits("library"));
    let rejected: SheetEvent = serde_json::from_value(json!({ "type": "sheet.rejected", "payload": {
        "application_id": Uuid::now_v7(), "department": "library", "note": "n", "decided_by_name": "x" }}))
    .expect("an old sheet.rejected reads");
    assert!(matches!(rejected, SheetEvent::Rejected(_)));
}
