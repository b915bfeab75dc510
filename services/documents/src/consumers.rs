//! The consumers that issue documents: the result of a service when routing approves its sheet
//! (`sheet.approved`), and the two receipts of every submission (`application.submitted`): the printed
//! application form and the notification of acceptance.
//!
//! Each document's id is derived from the application and the kind, so a redelivered event finds the document it
//! already caused; [`Issuer`] does the rest.

use std::sync::Arc;

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_contracts::{
    applications::{self, ApplicationEvent},
    sheet::{self, SheetEvent},
};
use onewindow_eventlog::{InboxMark, OrgId, RecordedEvent, load};

use crate::{
    SERVICE, departments,
    domain::{
        self, ApprovalLine, Content, Document, DocumentError, DocumentKind, Holder, Language, Names, Stipend, Unit,
    },
    issuer::{IssueError, IssueOrder, Issuer, document_stream},
};

pub const CONSUMER: &str = "documents-routing";
pub const RECEIPTS_CONSUMER: &str = "documents-applications";
/// Routing's events a document is issued on.
pub const APPROVAL_EVENTS: &[&str] = &[sheet::APPROVED];
/// Applications' events the receipts are issued on.
pub const RECEIPT_EVENTS: &[&str] = &[applications::SUBMITTED];

fn poison(error: impl Into<anyhow::Error>) -> HandleError {
    HandleError::Poison(error.into())
}

fn handle_error(error: IssueError) -> HandleError {
    match error {
        IssueError::Refused(_) | IssueError::Render(_) => HandleError::Poison(error.into()),
        IssueError::Unavailable(_) => HandleError::Transient(error.into()),
    }
}

/// The language the receipts default to when the applicant chose none (the service issues no document).
const RECEIPT_LANGUAGE: Language = Language::Ru;

/// The consumer of routing's approvals.
pub struct IssueOnApproval {
    issuer: Arc<Issuer>,
}

impl IssueOnApproval {
    pub fn new(issuer: Arc<Issuer>) -> Self {
        Self { issuer }
    }
}

#[async_trait]
impl EventHandler for IssueOnApproval {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "routing", event_types: APPROVAL_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let SheetEvent::Approved(approved) = read::<SheetEvent>(event)? else { return Ok(()) };
        let summary = &approved.application;
        // Most services issue nothing.
        if summary.issues_document.is_empty() || summary.issues_document == "none" {
            return Ok(());
        }
        let kind = DocumentKind::parse(&summary.issues_document).map_err(poison)?;
        if kind.is_receipt() {
            return Err(poison(DocumentError::UnknownKind(summary.issues_document.clone())));
        }
        let language = summary.document_language.ok_or_else(|| {
            poison(anyhow::anyhow!("sheet.approved of a service that issues {kind:?} names no document language"))
        })?;
        let unit = Unit::parse_optional(&approved.issuing_unit).map_err(poison)?;
        let application_id = summary.application_id.to_string();
        let org = &event.stream.org;
        // The receipts issued at submission know the service's names in every language, and the reason.
        let form = self.form(org, &application_id).await?;
        let form = form.as_ref().map(|issued| &issued.content);
        let codes: Vec<&str> = approved.approvals.iter().map(|a| a.department.as_str()).collect();
        let names = departments::names(self.issuer.store.as_ref(), org, &codes)
            .await
            .map_err(|e| HandleError::Transient(e.into()))?;
        let approvals: Vec<ApprovalLine> = approved
            .approvals
            .iter()
            .map(|a| ApprovalLine {
                full_name: a.full_name.clone(),
                position: a.position.clone(),
                department: a.department.clone(),
                department_names: names.get(&a.department).cloned().unwrap_or_default(),
                decided_at: Some(a.decided_at),
                note: a.note.clone(),
                acting_for: a.acting_for.clone(),
            })
            .collect();
        let content = Content {
            holder: Holder { full_name: summary.applicant_name.clone(), ..Holder::default() },
            application_number: summary.number.clone(),
            service_names: form.map(|f| f.service_names.clone()).unwrap_or_else(|| Names {
                kk: summary.service_name.clone(),
                ru: summary.service_name.clone(),
                en: summary.service_name.clone(),
            }),
            reason: form.map(|f| f.reason.clone()).unwrap_or_default(),
            submitted_at: form.and_then(|f| f.submitted_at),
            planned_completion: None,
            // The route's last approver signs: the dean, the chief accountant, the vice-rector.
            signatory: approvals.last().cloned(),
            approvals,
            stipend: approved.stipend.as_ref().map(|s| Stipend {
                name: s.name.clone(),
                monthly_amount_tenge: s.monthly_amount_tenge,
                from: s.from,
                to: s.to,
            }),
        };
        let order = IssueOrder {
            org: org.clone(),
            document_id: domain::document_id(org, &application_id, kind),
            kind,
            unit,
            application_id,
            holder_id: summary.applicant_id,
            language,
            content,
            replaces: None,
        };
        let metadata = onewindow_server::reaction_metadata(SERVICE, event);
        let mark = InboxMark { consumer: CONSUMER.into(), event_id: event.id };
        self.issuer.issue(&order, &metadata, Some(mark)).await.map_err(handle_error)?;
        Ok(())
    }
}

impl IssueOnApproval {
    async fn form(&self, org: &OrgId, application_id: &str) -> Result<Option<domain::Issued>, HandleError> {
        let id = domain::document_id(org, application_id, DocumentKind::ApplicationForm);
        let loaded = load::<Document>(self.issuer.store.as_ref(), &document_stream(org, id))
            .await
            .map_err(|e| HandleError::Transient(e.into()))?;
        Ok(loaded.state.issued)
    }
}

/// The consumer of submissions: the printed application form and the notification of acceptance, each with its
/// own number (public portals hand both out as PDFs).
pub struct IssueReceipts {
    issuer: Arc<Issuer>,
}

impl IssueReceipts {
    pub fn new(issuer: Arc<Issuer>) -> Self {
        Self { issuer }
    }
}

#[async_trait]
impl EventHandler for IssueReceipts {
    fn name(&self) -> &'static str {
        RECEIPTS_CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: RECEIPT_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let ApplicationEvent::Submitted(submitted) = read::<ApplicationEvent>(event)? else { return Ok(()) };
        let application_id = submitted.application_id.to_string();
        let language = submitted.document_language.unwrap_or(RECEIPT_LANGUAGE);
        let org = &event.stream.org;
        let service_names = &submitted.service_names;
        let mut names =
            Names { kk: service_names.kk.clone(), ru: service_names.ru.clone(), en: service_names.en.clone() };
        for name in [&mut names.kk, &mut names.ru, &mut names.en] {
            if name.is_empty() {
                name.clone_from(&submitted.service_name);
            }
        }
        let content = Content {
            holder: Holder { full_name: submitted.applicant_name.clone(), ..Holder::default() },
            application_number: submitted.number.clone(),
            service_names: names,
            reason: submitted.reason.clone(),
            submitted_at: Some(event.metadata.occurred_at),
            ..Content::default()
        };
        let metadata = onewindow_server::reaction_metadata(SERVICE, event);
        // The form first and without the mark: a redelivery after a crash between the two finds the form issued
        // (its id is derived) and issues the notice with the mark.
        for (kind, mark) in [
            (DocumentKind::ApplicationForm, None),
            (
                DocumentKind::AcceptanceNotice,
                Some(InboxMark { consumer: RECEIPTS_CONSUMER.into(), event_id: event.id }),
            ),
        ] {
            let order = IssueOrder {
                org: org.clone(),
                document_id: domain::document_id(org, &application_id, kind),
                kind,
                unit: None,
                application_id: application_id.clone(),
                holder_id: submitted.applicant_id,
                language,
                content: content.clone(),
                replaces: None,
            };
            self.issuer.issue(&order, &metadata, mark).await.map_err(handle_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{Datelike, Utc};
    use onewindow_blobs::BlobStore;
    use onewindow_eventlog::{EventStore, StreamRef, decode};
    use uuid::Uuid;

    use super::*;
    use crate::{
        domain::{Issued, JournalEvent, JournalKey, RegistrationNumber},
        issuer::{journal_position, key_ring_stream},
        signing::{self, KeyRing},
        testing::{Setup, VERIFY_URL, application, application_submitted, decode_qr, org, pdf_text, sheet_approved},
        verification::{CodeIndex, VERIFICATION_CODE},
    };

    const CS: &str = "certificate_of_study";

    fn journal(org: &OrgId, kind: DocumentKind) -> StreamRef {
        JournalKey { unit: None, kind, year: Utc::now().year() }.stream(org)
    }

    async fn issued_kind(setup: &Setup, org: &OrgId, application_id: &str, kind: DocumentKind) -> Issued {
        let id = domain::document_id(org, &application(application_id), kind);
        let document = load::<Document>(setup.store.as_ref(), &document_stream(org, id)).await.expect("load");
        assert_eq!(document.version, 1, "one document.issued");
        document.state.issued.expect("issued")
    }

    async fn issued(setup: &Setup, org: &OrgId, application_id: &str) -> Issued {
        issued_kind(setup, org, application_id, DocumentKind::CertificateOfStudy).await
    }

    async fn keys(store: &dyn EventStore, org: &OrgId) -> Vec<signing::PublicKey> {
        load::<KeyRing>(store, &key_ring_stream(org)).await.expect("keys").state.public_keys()
    }

    #[tokio::test]
    async fn an_approved_sheet_gets_its_document_in_three_languages() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let event = sheet_approved(&kaznu, "app-1", applicant, CS, "ru");
        setup.handler().handle(&event).await.expect("issued");

        let issued = issued(&setup, &kaznu, "app-1").await;
        let year = Utc::now().year();
        assert_eq!(issued.registration_number, format!("KAZNU-CS-{year}-000001"));
        assert_eq!((issued.holder_id, issued.holder_name.as_str()), (applicant, "Aruzhan Serikovna Nurlanova"));
        assert_eq!((issued.title.as_str(), issued.language), ("Справка об обучении", Language::Ru));
        assert_eq!(issued.document_type, CS);
        assert_eq!(issued.content.approvals.len(), 2);
        assert_eq!(issued.content.signatory.as_ref().map(|s| s.full_name.as_str()), Some("Marat Seitkali"));

        // One number, three copies, each stored under its hash.
        let languages: Vec<Language> = issued.copies.iter().map(|c| c.language).collect();
        assert_eq!(languages, Language::ALL);
        let mut hashes = BTreeSet::new();
        for copy in &issued.copies {
            let pdf = setup.blobs.get(&copy.blob_key).await.expect("get").expect("stored");
            assert!(pdf.starts_with(b"%PDF-"));
            assert_eq!((domain::sha256_hex(&pdf), pdf.len() as i64), (copy.sha256.clone(), copy.size_bytes));
            hashes.insert(copy.sha256.clone());
        }
        assert_eq!(hashes.len(), 3, "three different PDFs");
        assert_eq!(issued.copy(Language::Ru).map(|c| c.sha256), Some(issued.sha256.clone()));

        // The record is signed with the organisation's key, and the code names the document.
        let keys = keys(setup.store.as_ref(), &kaznu).await;
        let message = signing::record_message(
            &issued.document_id.to_string(),
            &issued.registration_number,
            &issued.hashes(),
            issued.issued_at,
        );
        assert!(signing::verify(&keys, &issued.key_id, &message, &issued.signature));
        assert_eq!(issued.verification_code.len(), 22);
        let code = StreamRef::new(&kaznu, VERIFICATION_CODE, issued.verification_code.clone());
        let index = load::<CodeIndex>(setup.store.as_ref(), &code).await.expect("code");
        assert_eq!(index.state.document_id, Some(issued.document_id));

        // The journal entry points back, caused by the approval.
        let journal =
            setup.store.read_stream(&journal(&kaznu, DocumentKind::CertificateOfStudy)).await.expect("journal");
        assert_eq!(journal.len(), 1);
        assert_eq!(journal[0].event_type, "journal.number_taken");
        assert_eq!(journal[0].payload["number"], 1);
        assert_eq!(journal[0].payload["document_id"], issued.document_id.to_string());
        assert_eq!(journal[0].metadata.causation_id, event.id);
        assert_eq!(journal[0].metadata.actor, "service:documents");
        let document = setup.store.read_stream(&document_stream(&kaznu, issued.document_id)).await.expect("document");
        let keys: BTreeSet<_> = document[0].payload.as_object().expect("object").keys().cloned().collect();
        for field in [
            "document_id",
            "document_type",
            "registration_number",
            "copies",
            "verification_code",
            "key_id",
            "signature",
            "content",
            "sha256",
            "language",
            "blob_key",
        ] {
            assert!(keys.contains(field), "document.issued has {field}");
        }
        assert!(!keys.contains("replaces"), "absent unless a reissue");
    }

    #[tokio::test]
    async fn the_qr_code_on_the_page_verifies_offline() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        setup.handler().handle(&sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "kk")).await.expect("issued");
        let issued = issued(&setup, &kaznu, "app-1").await;
        let keys = keys(setup.store.as_ref(), &kaznu).await;
        for copy in &issued.copies {
            let pdf = setup.blobs.get(&copy.blob_key).await.expect("get").expect("stored");
            // A real decoder reads the code from the rendered page; the organisation's public key checks it.
            let payload = decode_qr(&pdf);
            let claims = signing::verify_qr(&payload, &keys).expect("the signature checks offline");
            assert_eq!(claims.holder, "Aruzhan Serikovna Nurlanova");
            assert_eq!(claims.title, "Оқу туралы анықтама");
            assert_eq!(claims.approvers, vec!["Dana Abenova", "Marat Seitkali"]);
            assert_eq!(claims.signed_at, issued.issued_at);
            assert_eq!(claims.verify_url, format!("{VERIFY_URL}/kaznu/{}", issued.verification_code));
            // The electronic copy prints no number (seed rule).
            assert!(!pdf_text(&pdf).contains(&issued.registration_number), "{:?}", copy.language);
            let tampered = payload.replace("Aruzhan", "Aruzhan-Maria");
            assert_eq!(signing::verify_qr(&tampered, &keys), Err(signing::QrError::BadSignature));
        }
    }

    #[tokio::test]
    async fn departments_are_printed_by_their_catalog_names_in_each_language() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let mut defined = sheet_approved(&kaznu, "dept", Uuid::now_v7(), CS, "kk");
        defined.event_type = "department.defined".into();
        defined.schema_version = 1;
        defined.payload = serde_json::json!({
            "code": "Faculty of IT",
            "name": { "kk": "Ақпараттық технологиялар факультеті", "ru": "Факультет информационных технологий",
                      "en": "Faculty of Information Technology" }
        });
        crate::departments::CopyDepartmentNames::new(setup.store.clone()).handle(&defined).await.expect("copied");
        setup.handler().handle(&sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "kk")).await.expect("issued");
        let issued = issued(&setup, &kaznu, "app-1").await;
        assert_eq!(issued.content.approvals[0].department_names.en, "Faculty of Information Technology");
        for (language, name) in [
            (Language::Kk, "Ақпараттықтехнологияларфакультеті"),
            (Language::Ru, "Факультетинформационныхтехнологий"),
            (Language::En, "FacultyofInformationTechnology"),
        ] {
            let copy = issued.copy(language).expect("copy");
            let pdf = setup.blobs.get(&copy.blob_key).await.expect("get").expect("stored");
            let text: String = pdf_text(&pdf).chars().filter(|c| !c.is_whitespace()).collect();
            assert!(text.contains(name), "{language:?}: {text}");
            // A department the catalog has not named is printed by its code.
            assert!(text.contains("Accounting"), "{language:?}");
        }
    }

    #[tokio::test]
    async fn a_redelivered_approval_issues_nothing_more() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let event = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "kk");
        let handler = setup.handler();
        handler.handle(&event).await.expect("first delivery");
        let first = issued(&setup, &kaznu, "app-1").await;
        handler.handle(&event).await.expect("redelivery");
        // The same approval published again under another id (a replayed log) finds the document too.
        let mut replayed = event.clone();
        replayed.id = Uuid::now_v7();
        handler.handle(&replayed).await.expect("replay");

        assert_eq!(issued(&setup, &kaznu, "app-1").await, first);
        let version = setup.store.stream_version(&journal(&kaznu, DocumentKind::CertificateOfStudy)).await;
        assert_eq!(version.expect("journal"), 1, "no second number");
    }

    #[tokio::test]
    async fn the_issue_time_and_the_journal_year_are_the_clock_s() {
        use chrono::TimeZone;
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        // A second into a new year, with the system clock in another: the number is of the clock's year.
        let new_year = Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 1).single().expect("a time");
        let clock = Arc::new(onewindow_server::ManualClock::new(new_year));
        let issuer = Issuer::new(setup.store.clone(), setup.blobs.clone(), VERIFY_URL).with_clock(clock.clone());
        let handler = IssueOnApproval::new(Arc::new(issuer));
        handler.handle(&sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "en")).await.expect("issued");
        let document = issued(&setup, &kaznu, "app-1").await;
        assert_eq!(document.registration_number, "KAZNU-CS-2031-000001");
        assert_eq!(document.issued_at, new_year);
        let ring = load::<KeyRing>(setup.store.as_ref(), &key_ring_stream(&kaznu)).await.expect("keys").state;
        let key = ring.public_keys().into_iter().next().expect("the first key");
        assert_eq!(key.created_at, new_year, "the first key is generated at the clock's time");
    }

    #[tokio::test]
    async fn numbers_are_gapless_per_journal() {
        let setup = Setup::in_memory().await;
        let (kaznu, kaznmu) = (org("kaznu"), org("kaznmu"));
        let handler = setup.handler();
        for (org, app, kind) in
            [(&kaznu, "app-1", CS), (&kaznu, "app-2", CS), (&kaznmu, "app-3", CS), (&kaznu, "app-4", "clearance_sheet")]
        {
            handler.handle(&sheet_approved(org, app, Uuid::now_v7(), kind, "en")).await.expect("issued");
        }
        let year = Utc::now().year();
        assert_eq!(issued(&setup, &kaznu, "app-1").await.registration_number, format!("KAZNU-CS-{year}-000001"));
        assert_eq!(issued(&setup, &kaznu, "app-2").await.registration_number, format!("KAZNU-CS-{year}-000002"));
        // Each organisation, and each kind, has its own journal.
        assert_eq!(issued(&setup, &kaznmu, "app-3").await.registration_number, format!("KAZNMU-CS-{year}-000001"));
        let sheet = issued_kind(&setup, &kaznu, "app-4", DocumentKind::ClearanceSheet).await;
        assert_eq!(sheet.registration_number, format!("KAZNU-CL-{year}-000001"));
    }

    #[tokio::test]
    async fn an_issuing_unit_numbers_in_its_own_journal() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let mut event = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "en");
        event.payload["issuing_unit"] = "fit".into();
        setup.handler().handle(&event).await.expect("issued");
        let number = issued(&setup, &kaznu, "app-1").await.registration_number;
        assert_eq!(number, format!("KAZNU/FIT-CS-{}-000001", Utc::now().year()));
        let parsed = RegistrationNumber::parse(&number).expect("parses back");
        assert_eq!(parsed.journal.unit.as_ref().map(|u| u.as_str()), Some("FIT"));
    }

    #[tokio::test]
    async fn a_journal_continues_its_paper_predecessor() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let stream = journal(&kaznu, DocumentKind::CertificateOfStudy);
        let start = domain::continue_from_paper(Default::default(), 4711, "paper journal No. 3").expect("continue");
        let metadata = onewindow_server::request_metadata("admin".into(), None);
        let event = onewindow_eventlog::encode(&start, &metadata).expect("encode");
        setup.store.commit(onewindow_eventlog::Commit::append(stream.clone(), 0, vec![event])).await.expect("commit");
        let handler = setup.handler();
        for app in ["app-1", "app-2"] {
            handler.handle(&sheet_approved(&kaznu, app, Uuid::now_v7(), CS, "en")).await.expect("issued");
        }
        let year = Utc::now().year();
        assert_eq!(issued(&setup, &kaznu, "app-1").await.registration_number, format!("KAZNU-CS-{year}-004712"));
        assert_eq!(issued(&setup, &kaznu, "app-2").await.registration_number, format!("KAZNU-CS-{year}-004713"));
        let position = journal_position(setup.store.as_ref(), &stream).await.expect("position");
        assert_eq!((position.next_number(), position.version_of(4713)), (4714, Some(3)));
        assert_eq!(position.version_of(4711), None, "paper numbers are not in the electronic journal");
    }

    #[tokio::test]
    async fn a_sheet_without_a_document_is_left_alone() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        for issues in ["", "none"] {
            let event = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), issues, "");
            setup.handler().handle(&event).await.expect("nothing to do");
        }
        let journal = setup.store.read_stream(&journal(&kaznu, DocumentKind::CertificateOfStudy)).await;
        assert!(journal.expect("journal").is_empty());
    }

    #[tokio::test]
    async fn undecodable_approvals_are_poison() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let handler = setup.handler();
        let mut missing_applicant = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "en");
        missing_applicant.payload.as_object_mut().expect("object").remove("applicant_id");
        let unknown_kind = sheet_approved(&kaznu, "app-2", Uuid::now_v7(), "diploma", "en");
        let unknown_language = sheet_approved(&kaznu, "app-3", Uuid::now_v7(), CS, "de");
        let a_receipt = sheet_approved(&kaznu, "app-4", Uuid::now_v7(), "acceptance_notice", "en");
        let mut bad_unit = sheet_approved(&kaznu, "app-5", Uuid::now_v7(), CS, "en");
        bad_unit.payload["issuing_unit"] = "F I T".into();
        for event in [missing_applicant, unknown_kind, unknown_language, a_receipt, bad_unit] {
            assert!(matches!(handler.handle(&event).await, Err(HandleError::Poison(_))), "{}", event.payload);
        }
        let journal = setup.store.read_stream(&journal(&kaznu, DocumentKind::CertificateOfStudy)).await;
        assert!(journal.expect("journal").is_empty());
    }

    #[tokio::test]
    async fn a_submission_of_a_service_that_issues_no_document_gets_its_receipts_in_russian() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        // Applications writes `"document_language": null` when the service issues no document.
        let submitted = application_submitted(&kaznu, "app-1", Uuid::now_v7(), "");
        assert!(submitted.payload["document_language"].is_null());
        setup.receipts().handle(&submitted).await.expect("issued, not parked");
        let notice = issued_kind(&setup, &kaznu, "app-1", DocumentKind::AcceptanceNotice).await;
        assert_eq!(notice.language, Language::Ru);
    }

    #[tokio::test]
    async fn a_submission_gets_its_form_and_notice_and_the_order_reuses_them() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let submitted = application_submitted(&kaznu, "app-1", applicant, "kk");
        let receipts = setup.receipts();
        receipts.handle(&submitted).await.expect("receipts");
        receipts.handle(&submitted).await.expect("redelivery");
        let year = Utc::now().year();
        let form = issued_kind(&setup, &kaznu, "app-1", DocumentKind::ApplicationForm).await;
        let notice = issued_kind(&setup, &kaznu, "app-1", DocumentKind::AcceptanceNotice).await;
        assert_eq!(form.registration_number, format!("KAZNU-AF-{year}-000001"));
        assert_eq!(notice.registration_number, format!("KAZNU-AN-{year}-000001"));
        assert_eq!((form.title.as_str(), notice.title.as_str()), ("Өтініш", "Өтініштің қабылданғаны туралы хабарлама"));
        assert_eq!(form.content.service_names.ru, "Академический отпуск");
        assert_eq!(form.content.reason, "Денсаулығыма байланысты");
        assert_eq!(form.content.submitted_at, Some(submitted.metadata.occurred_at));
        assert_eq!(notice.holder_id, applicant);

        // The order, approved later in another language, names the service as the form recorded it.
        setup.handler().handle(&sheet_approved(&kaznu, "app-1", applicant, "order", "en")).await.expect("order");
        let order = issued_kind(&setup, &kaznu, "app-1", DocumentKind::Order).await;
        assert_eq!(order.registration_number, format!("KAZNU-OR-{year}-000001"));
        assert_eq!(order.content.service_names.en, "Academic leave");
        assert_eq!(order.content.submitted_at, form.content.submitted_at);
        assert_eq!(order.content.application_number, "KAZNU-2026-000123");
    }

    /// Two issuers (two replicas, each with its own connections) issue twenty documents at once on one log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_issuers_take_unique_gapless_numbers() {
        let setup = Setup::on_file().await;
        let second_log = onewindow_eventlog::open(&format!("sqlite:{}", setup.dir.join("documents.db").display()))
            .await
            .expect("a second replica's log");
        let replicas = [
            Arc::new(Issuer::new(setup.store.clone(), setup.blobs.clone(), VERIFY_URL)),
            Arc::new(Issuer::new(second_log, setup.blobs.clone(), VERIFY_URL)),
        ];
        let kaznu = org("kaznu");
        // The first key is generated once, before the race, as a running service would have it.
        replicas[0].key_ring(&kaznu).await.expect("key");
        let tasks = (1..=20).map(|i| {
            let handler = IssueOnApproval::new(replicas[i % 2].clone());
            let event = sheet_approved(&kaznu, &format!("app-{i}"), Uuid::now_v7(), CS, "en");
            tokio::spawn(async move { handler.handle(&event).await })
        });
        for result in futures::future::join_all(tasks).await {
            result.expect("no panic").expect("issued");
        }
        let stream = journal(&kaznu, DocumentKind::CertificateOfStudy);
        let mut numbers = Vec::new();
        for i in 1..=20 {
            let issued = issued(&setup, &kaznu, &format!("app-{i}")).await;
            let number = RegistrationNumber::parse(&issued.registration_number).expect("number").number;
            let entry = setup.store.read_event(&stream, number).await.expect("read").expect("entry");
            let JournalEvent::NumberTaken { document_id, .. } = decode(&entry).expect("decode") else {
                panic!("entry {number} is not a document's");
            };
            assert_eq!(document_id, issued.document_id, "the journal points back");
            numbers.push(number);
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
        assert_eq!(setup.store.stream_version(&stream).await.expect("version"), 20);
    }
}
