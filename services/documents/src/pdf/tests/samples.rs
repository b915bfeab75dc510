//! Sample documents for the tests, with realistic texts in each language. The Kazakh data uses every letter the
//! Russian alphabet lacks (ә ғ қ ң ө ұ ү һ і), so the tests see them all embedded and extracted.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::pdf::*;

pub(super) const NUMBER: &str = "KAZNU-CS-2026-000017";
pub(super) const PAYLOAD: &str = "https://onewindow.example/verify/KAZNU-CS-2026-000017?sig=\
                                  MEUCIQDx3v9Yk2Jp0l4sQfZ8mN1aB7cR5tW6uE2oP9iL3hG4AIgV8bN0cX1zA2sD3fG4hJ5kL6";
pub(super) const LANGUAGES: [Language; 3] = [Language::Kk, Language::Ru, Language::En];

/// 09:30 UTC on a day of March 2026: 14:30 in Kazakhstan, the same day.
pub(super) fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 30, 0).single().expect("valid date")
}

pub(super) fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

/// The values a document is filled with, in one language.
pub(super) struct Data {
    pub(super) organisation: &'static str,
    pub(super) holder: &'static str,
    pub(super) faculty: &'static str,
    pub(super) specialty: &'static str,
    pub(super) group: &'static str,
    pub(super) purpose: &'static str,
    pub(super) position: &'static str,
    pub(super) department: &'static str,
    pub(super) signatory: &'static str,
    pub(super) signatory_position: &'static str,
    pub(super) principal: &'static str,
    pub(super) stipend_name: &'static str,
    pub(super) clearance_reason: &'static str,
    pub(super) clearance_departments: [&'static str; 4],
    pub(super) clearance_note: &'static str,
    pub(super) order_subject: &'static str,
    pub(super) order_service: &'static str,
    pub(super) addressee: &'static str,
    pub(super) application_service: &'static str,
    pub(super) application_reason: &'static str,
    pub(super) statement: &'static str,
    pub(super) notice_service: &'static str,
    pub(super) office: &'static str,
}

const KK: Data = Data {
    organisation: "Әл-Фараби атындағы Қазақ ұлттық университеті",
    holder: "Гауһар Әлиханқызы Нұрланова",
    faculty: "Ақпараттық технологиялар факультеті",
    specialty: "Бағдарламалық инженерия",
    group: "БИ-301",
    purpose: "Анықтама талап етілген жерге ұсыну үшін берілді.",
    position: "Тіркеу кеңсесінің маманы",
    department: "Тіркеу кеңсесі",
    signatory: "Ерлан Болатұлы Ахметов",
    signatory_position: "Академиялық мәселелер жөніндегі проректор",
    principal: "Сәуле Серікқызы Омарова",
    stipend_name: "Мемлекеттік білім беру гранты бойынша стипендия",
    clearance_reason: "Оқуды аяқтауға байланысты",
    clearance_departments: ["Кітапхана", "Жатақхана", "Бухгалтерия", "Әскери есеп үстелі"],
    clearance_note: "Кітаптар қайтарылды",
    order_subject: "Академиялық демалыс беру туралы",
    order_service: "академиялық демалыс",
    addressee: "Әл-Фараби атындағы ҚазҰУ ректорына",
    application_service: "Академиялық демалыс",
    application_reason: "Денсаулық жағдайы бойынша",
    statement: "Денсаулық жағдайыма байланысты маған академиялық демалыс беруіңізді сұраймын.",
    notice_service: "Оқу туралы анықтама",
    office: "Студенттерге қызмет көрсету орталығы",
};

const RU: Data = Data {
    organisation: "Казахский национальный университет имени аль-Фараби",
    holder: "Иванова Мария Сергеевна",
    faculty: "Факультет информационных технологий",
    specialty: "Программная инженерия",
    group: "ПИ-301",
    purpose: "Справка выдана для предъявления по месту требования.",
    position: "Специалист офиса регистратора",
    department: "Офис регистратора",
    signatory: "Ахметов Ерлан Болатович",
    signatory_position: "Проректор по академическим вопросам",
    principal: "Омарова Сауле Сериковна",
    stipend_name: "Государственная образовательная стипендия",
    clearance_reason: "Окончание обучения",
    clearance_departments: ["Библиотека", "Общежитие", "Бухгалтерия", "Военно-учётный стол"],
    clearance_note: "Книги возвращены",
    order_subject: "О предоставлении академического отпуска",
    order_service: "академический отпуск",
    addressee: "Ректору КазНУ имени аль-Фараби",
    application_service: "Академический отпуск",
    application_reason: "По состоянию здоровья",
    statement: "Прошу предоставить мне академический отпуск по состоянию здоровья.",
    notice_service: "Справка об обучении",
    office: "Центр обслуживания студентов",
};

const EN: Data = Data {
    organisation: "Al-Farabi Kazakh National University",
    holder: "Aigerim Nurlanova",
    faculty: "Faculty of Information Technology",
    specialty: "Software Engineering",
    group: "SE-301",
    purpose: "Issued to be presented at the place of demand.",
    position: "Registrar's office specialist",
    department: "Registrar's office",
    signatory: "Yerlan Akhmetov",
    signatory_position: "Vice-Rector for Academic Affairs",
    principal: "Saule Omarova",
    stipend_name: "State educational grant stipend",
    clearance_reason: "Graduation",
    clearance_departments: ["Library", "Dormitory", "Accounts office", "Military registration desk"],
    clearance_note: "Books returned",
    order_subject: "On granting academic leave",
    order_service: "academic leave",
    addressee: "To the Rector of Al-Farabi Kazakh National University",
    application_service: "Academic leave",
    application_reason: "Health reasons",
    statement: "I kindly ask you to grant me academic leave for health reasons.",
    notice_service: "Certificate of study",
    office: "Student service centre",
};

pub(super) fn data(language: Language) -> &'static Data {
    match language {
        Language::Kk => &KK,
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

/// A signed, printed-form document with the body given.
pub(super) fn printed(language: Language, body: Body) -> Printed {
    let d = data(language);
    Printed {
        language,
        organisation_name: d.organisation.to_string(),
        registration_number: NUMBER.to_string(),
        printed_form: true,
        issued_at: at(17),
        signed_by: Some(Signatory {
            full_name: d.signatory.to_string(),
            position: d.signatory_position.to_string(),
            acting_for: String::new(),
            key_id: "ed25519:7F3A9C21".to_string(),
        }),
        qr_payload: PAYLOAD.to_string(),
        body,
    }
}

pub(super) fn holder(language: Language) -> Holder {
    let d = data(language);
    Holder {
        full_name: d.holder.to_string(),
        faculty: d.faculty.to_string(),
        specialty: d.specialty.to_string(),
        course: 3,
        group: d.group.to_string(),
    }
}

pub(super) fn approvals(language: Language, count: usize) -> Vec<Approval> {
    let d = data(language);
    (0..count)
        .map(|i| Approval {
            full_name: format!("Approver{i:02} Surname"),
            position: d.position.to_string(),
            department: d.department.to_string(),
            decided_at: at(16),
            acting_for: String::new(),
        })
        .collect()
}

pub(super) fn certificate_of_study(language: Language, approvals_count: usize) -> Printed {
    printed(
        language,
        Body::CertificateOfStudy(CertificateOfStudy {
            holder: holder(language),
            purpose: data(language).purpose.to_string(),
            approvals: approvals(language, approvals_count),
        }),
    )
}

pub(super) fn certificate_of_stipend(language: Language) -> Printed {
    printed(
        language,
        Body::CertificateOfStipend(CertificateOfStipend {
            holder: holder(language),
            stipend_name: data(language).stipend_name.to_string(),
            monthly_amount_tenge: 42_000,
            period: Some((day(2025, 9, 1), day(2026, 1, 31))),
            purpose: data(language).purpose.to_string(),
            approvals: approvals(language, 2),
        }),
    )
}

/// Rows cycle through the decisions; every row's person is unique ("Clearer 07"), every third has a note.
pub(super) fn clearance_sheet(language: Language, rows: usize) -> Printed {
    let d = data(language);
    let rows = (0..rows)
        .map(|i| ClearanceRow {
            department: d.clearance_departments[i % d.clearance_departments.len()].to_string(),
            full_name: format!("Clearer {:02}", i + 1),
            position: d.position.to_string(),
            decision: [Decision::Approved, Decision::Rejected, Decision::Pending][i % 3],
            decided_at: (i % 3 != 2).then(|| at(16)),
            note: if i % 3 == 0 { d.clearance_note.to_string() } else { String::new() },
            acting_for: String::new(),
        })
        .collect();
    printed(
        language,
        Body::ClearanceSheet(ClearanceSheet { holder: holder(language), reason: d.clearance_reason.to_string(), rows }),
    )
}

pub(super) fn order(language: Language) -> Printed {
    let d = data(language);
    printed(
        language,
        Body::Order(Order {
            subject: d.order_subject.to_string(),
            holder: holder(language),
            service_name: d.order_service.to_string(),
            basis_application_number: "APP-2026-000123".to_string(),
            basis_submitted_at: Some(at(10)),
            period: Some((day(2026, 9, 1), day(2027, 8, 31))),
            approvals: approvals(language, 2),
        }),
    )
}

pub(super) fn application_form(language: Language) -> Printed {
    let d = data(language);
    printed(
        language,
        Body::ApplicationForm(ApplicationForm {
            addressee: d.addressee.to_string(),
            holder: holder(language),
            phone: "+7 701 234 56 78".to_string(),
            email: "student@example.kz".to_string(),
            application_number: "APP-2026-000123".to_string(),
            service_name: d.application_service.to_string(),
            reason: d.application_reason.to_string(),
            statement: d.statement.to_string(),
            agreed: true,
            submitted_at: at(10),
        }),
    )
}

pub(super) fn acceptance_notice(language: Language) -> Printed {
    let d = data(language);
    printed(
        language,
        Body::AcceptanceNotice(AcceptanceNotice {
            holder_full_name: d.holder.to_string(),
            application_number: "APP-2026-000123".to_string(),
            service_name: d.notice_service.to_string(),
            submitted_at: at(10),
            planned_completion: Some(at(24)),
            office: d.office.to_string(),
        }),
    )
}

/// One document of every type, in the language given.
pub(super) fn every_type(language: Language) -> Vec<Printed> {
    vec![
        certificate_of_study(language, 3),
        certificate_of_stipend(language),
        clearance_sheet(language, 6),
        order(language),
        application_form(language),
        acceptance_notice(language),
    ]
}

/// The body's type, for assertion messages.
pub(super) fn kind(body: &Body) -> &'static str {
    match body {
        Body::CertificateOfStudy(_) => "certificate of study",
        Body::CertificateOfStipend(_) => "certificate of stipend",
        Body::ClearanceSheet(_) => "clearance sheet",
        Body::Order(_) => "order",
        Body::ApplicationForm(_) => "application form",
        Body::AcceptanceNotice(_) => "acceptance notice",
    }
}
