//! Every document type in every language says what it should: titles, labels, sentences, the holder, amounts and
//! dates, read back from the PDF exactly.

use super::samples::{self, LANGUAGES, NUMBER, data};
use super::{assert_contains_all, normalise, pdf_text, rendered};
use crate::pdf::{Language, Printed};

/// The letters of the Kazakh alphabet that Russian lacks.
const KAZAKH_LETTERS: [char; 9] = ['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і'];

/// Renders the document, checks the expected strings and, in Kazakh, that every Kazakh letter came through.
fn check(doc: &Printed, expected: &[String]) {
    let text = pdf_text(&rendered(doc));
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_contains_all(&text, &expected);
    assert_contains_all(&text, &signature_and_footer(doc.language).iter().map(String::as_str).collect::<Vec<_>>());
    if doc.language == Language::Kk {
        let lower = text.to_lowercase();
        for letter in KAZAKH_LETTERS {
            assert!(lower.contains(letter), "missing letter {letter} in:\n{text}");
        }
    }
}

/// What the samples' signature block and footer say (the order's footer has only the note).
fn signature_and_footer(language: Language) -> Vec<String> {
    let d = data(language);
    let (signed, signed_at, key, note) = match language {
        Language::Kk => (
            "Электрондық қолтаңбамен қол қойылды",
            "Қол қойылған күні мен уақыты: 17.03.2026 14:30 (UTC+05:00)",
            "Кілт идентификаторы: ed25519:7F3A9C21",
            "Құжаттың түпнұсқалығын QR-кодты сканерлеп тексеруге болады.",
        ),
        Language::Ru => (
            "Подписано электронной подписью",
            "Дата и время подписания: 17.03.2026 14:30 (UTC+05:00)",
            "Идентификатор ключа: ed25519:7F3A9C21",
            "Подлинность документа можно проверить, отсканировав QR-код.",
        ),
        Language::En => (
            "Signed electronically",
            "Date and time of signing: 17 March 2026, 14:30 (UTC+05:00)",
            "Key ID: ed25519:7F3A9C21",
            "The authenticity of this document can be verified by scanning the QR code.",
        ),
    };
    [signed, d.signatory_position, d.signatory, signed_at, key, note].map(String::from).to_vec()
}

/// The footer's number and date of issue, on every type but the order.
fn number_and_date_of_issue(language: Language) -> Vec<String> {
    match language {
        Language::Kk => vec![format!("Тіркеу нөмірі: {NUMBER}"), "Берілген күні: 17.03.2026".into()],
        Language::Ru => vec![format!("Регистрационный номер: {NUMBER}"), "Дата выдачи: 17.03.2026".into()],
        Language::En => vec![format!("Registration number: {NUMBER}"), "Date of issue: 17 March 2026".into()],
    }
}

/// The holder's detail lines and the approvals table's heading and columns.
fn details_and_approvals(language: Language) -> Vec<String> {
    let d = data(language);
    let (faculty, specialty, course, group, approvals, columns, decided) = match language {
        Language::Kk => (
            "Факультеті",
            "Мамандығы",
            "Курсы",
            "Тобы",
            "Келісілді",
            ["Аты-жөні", "Лауазымы", "Бөлімшесі", "Күні"],
            "16.03.2026",
        ),
        Language::Ru => (
            "Факультет",
            "Специальность",
            "Курс",
            "Группа",
            "Согласовано",
            ["ФИО", "Должность", "Подразделение", "Дата"],
            "16.03.2026",
        ),
        Language::En => (
            "Faculty",
            "Specialty",
            "Year of study",
            "Group",
            "Approved by",
            ["Full name", "Position", "Department", "Date"],
            "16 March 2026",
        ),
    };
    let mut expected = vec![
        format!("{faculty}: {}", d.faculty),
        format!("{specialty}: {}", d.specialty),
        format!("{course}: 3"),
        format!("{group}: {}", d.group),
        approvals.to_string(),
        "Approver00 Surname".to_string(),
        "Approver01 Surname".to_string(),
        d.position.to_string(),
        d.department.to_string(),
        decided.to_string(),
    ];
    expected.extend(columns.map(String::from));
    expected
}

#[test]
fn certificate_of_study() {
    for language in LANGUAGES {
        let d = data(language);
        let (title, sentence) = match language {
            Language::Kk => (
                "ОҚУ ТУРАЛЫ АНЫҚТАМА",
                "Осы анықтама Гауһар Әлиханқызы Нұрланова шын мәнінде «Әл-Фараби атындағы Қазақ ұлттық \
                 университеті» білім беру ұйымында білім алатынын растайды.",
            ),
            Language::Ru => (
                "СПРАВКА ОБ ОБУЧЕНИИ",
                "Настоящей справкой подтверждается, что Иванова Мария Сергеевна действительно обучается в \
                 организации образования «Казахский национальный университет имени аль-Фараби».",
            ),
            Language::En => (
                "CERTIFICATE OF STUDY",
                "This is to certify that Aigerim Nurlanova is a student of Al-Farabi Kazakh National University.",
            ),
        };
        let mut expected = vec![d.organisation.to_string(), title.to_string(), sentence.to_string(), d.purpose.into()];
        expected.extend(details_and_approvals(language));
        expected.extend(number_and_date_of_issue(language));
        check(&samples::certificate_of_study(language, 3), &expected);
    }
}

#[test]
fn certificate_of_stipend() {
    for language in LANGUAGES {
        let d = data(language);
        let (title, sentence) = match language {
            Language::Kk => (
                "СТИПЕНДИЯ ТУРАЛЫ АНЫҚТАМА",
                "Осы анықтама Гауһар Әлиханқызы Нұрланова шын мәнінде «Әл-Фараби атындағы Қазақ ұлттық \
                 университеті» білім беру ұйымында білім алатынын және 01.09.2025 бастап 31.01.2026 дейінгі \
                 кезеңде айына 42 000 ₸ мөлшерінде стипендия (Мемлекеттік білім беру гранты бойынша стипендия) \
                 алатынын растайды.",
            ),
            Language::Ru => (
                "СПРАВКА О СТИПЕНДИИ",
                "Настоящей справкой подтверждается, что Иванова Мария Сергеевна действительно обучается в \
                 организации образования «Казахский национальный университет имени аль-Фараби» и получает \
                 стипендию (Государственная образовательная стипендия) в размере 42 000 ₸ в месяц за период \
                 с 01.09.2025 по 31.01.2026.",
            ),
            Language::En => (
                "CERTIFICATE OF STIPEND",
                "This is to certify that Aigerim Nurlanova is a student of Al-Farabi Kazakh National University \
                 and receives a stipend (State educational grant stipend) in the monthly amount of KZT 42,000 for \
                 the period from 1 September 2025 to 31 January 2026.",
            ),
        };
        let mut expected = vec![title.to_string(), sentence.to_string(), d.purpose.into()];
        expected.extend(details_and_approvals(language));
        expected.extend(number_and_date_of_issue(language));
        check(&samples::certificate_of_stipend(language), &expected);
    }
}

#[test]
fn stipend_without_name_or_period() {
    let mut doc = samples::certificate_of_stipend(Language::Ru);
    if let crate::pdf::Body::CertificateOfStipend(body) = &mut doc.body {
        body.stipend_name.clear();
        body.period = None;
        body.monthly_amount_tenge = 1_234_567;
    }
    let text = normalise(&pdf_text(&rendered(&doc)));
    assert!(text.contains("и получает стипендию в размере 1 234 567 ₸ в месяц."), "{text}");
    assert!(!text.contains("за период"), "{text}");
}

#[test]
fn clearance_sheet() {
    for language in LANGUAGES {
        let d = data(language);
        let expected: Vec<String> = match language {
            Language::Kk => vec![
                "АЙНАЛМА ПАРАҚ".into(),
                format!("Білім алушы: {}", d.holder),
                format!("Ресімдеу себебі: {}", d.clearance_reason),
                "Факультеті: Ақпараттық технологиялар факультеті".into(),
                "Тобы: БИ-301".into(),
                "№".into(),
                "Бөлімше".into(),
                "Аты-жөні, лауазымы".into(),
                "Шешім".into(),
                "Ескертпе".into(),
                "Келісілді".into(),
                "Келісілмеді".into(),
                "Қаралуда".into(),
                "16.03.2026".into(),
            ],
            Language::Ru => vec![
                "ОБХОДНОЙ ЛИСТ".into(),
                format!("Обучающийся: {}", d.holder),
                format!("Причина оформления: {}", d.clearance_reason),
                "Подразделение".into(),
                "ФИО, должность".into(),
                "Решение".into(),
                "Примечание".into(),
                "Согласовано".into(),
                "Не согласовано".into(),
                "На рассмотрении".into(),
                "16.03.2026".into(),
            ],
            Language::En => vec![
                "CLEARANCE SHEET".into(),
                format!("Student: {}", d.holder),
                format!("Reason: {}", d.clearance_reason),
                "No.".into(),
                "Department".into(),
                "Full name, position".into(),
                "Decision".into(),
                "Note".into(),
                "Approved".into(),
                "Rejected".into(),
                "Pending".into(),
                "16 March".into(),
            ],
        };
        let mut expected = expected;
        expected.extend(d.clearance_departments.map(String::from));
        expected.extend([d.clearance_note.to_string(), "Clearer 01".into(), "Clearer 06".into(), d.position.into()]);
        expected.extend(number_and_date_of_issue(language));
        check(&samples::clearance_sheet(language, 6), &expected);
    }
}

#[test]
fn order() {
    for language in LANGUAGES {
        let d = data(language);
        let expected: Vec<String> = match language {
            Language::Kk => vec![
                "БҰЙРЫҚ".into(),
                "17.03.2026".into(),
                format!("№ {NUMBER}"),
                "БҰЙЫРАМЫН:".into(),
                "1. Білім алушыға 01.09.2026 бастап 31.08.2027 дейінгі кезеңге академиялық демалыс берілсін: \
                 Гауһар Әлиханқызы Нұрланова, 3-курс, Ақпараттық технологиялар факультеті, «Бағдарламалық \
                 инженерия» мамандығы."
                    .into(),
                "Негіздеме: білім алушының 10.03.2026 ж. № APP-2026-000123 өтініші.".into(),
                "Келісілді".into(),
            ],
            Language::Ru => vec![
                "ПРИКАЗ".into(),
                "17.03.2026".into(),
                format!("№ {NUMBER}"),
                "ПРИКАЗЫВАЮ:".into(),
                "1. Предоставить академический отпуск на период с 01.09.2026 по 31.08.2027 обучающемуся: \
                 Иванова Мария Сергеевна, 3 курс, Факультет информационных технологий, специальность \
                 «Программная инженерия»."
                    .into(),
                "Основание: заявление обучающегося № APP-2026-000123 от 10.03.2026.".into(),
                "Согласовано".into(),
            ],
            Language::En => vec![
                "ORDER".into(),
                "17 March 2026".into(),
                format!("No. {NUMBER}"),
                "I HEREBY ORDER:".into(),
                "1. To grant academic leave to Aigerim Nurlanova, 3rd year student, Faculty of Information \
                 Technology, Software Engineering, for the period from 1 September 2026 to 31 August 2027."
                    .into(),
                "Basis: application No. APP-2026-000123 of 10 March 2026.".into(),
                "Approved by".into(),
            ],
        };
        let mut expected = expected;
        expected.extend([d.organisation.to_string(), d.order_subject.into(), "Approver01 Surname".into()]);
        check(&samples::order(language), &expected);
    }
}

#[test]
fn application_form() {
    for language in LANGUAGES {
        let d = data(language);
        let labels = match language {
            Language::Kk => [
                "ӨТІНІШ",
                "Өтініш беруші",
                "Курсы",
                "Факультеті",
                "Мамандығы",
                "Тобы",
                "Телефон",
                "Электрондық пошта",
                "Өтініш нөмірі",
                "Қызмет",
                "Себебі",
                "☑ Таныстым және келісемін",
                "Өтініш берілген күні: 10.03.2026",
                "Қолы:",
            ],
            Language::Ru => [
                "ЗАЯВЛЕНИЕ",
                "Заявитель",
                "Курс",
                "Факультет",
                "Специальность",
                "Группа",
                "Телефон",
                "Электронная почта",
                "Номер заявления",
                "Услуга",
                "Причина",
                "☑ Ознакомлен(а) и согласен(на)",
                "Дата подачи: 10.03.2026",
                "Подпись:",
            ],
            Language::En => [
                "APPLICATION",
                "Applicant",
                "Year of study",
                "Faculty",
                "Specialty",
                "Group",
                "Phone",
                "E-mail",
                "Application No.",
                "Service",
                "Reason",
                "☑ I have read and agree",
                "Date of submission: 10 March 2026",
                "Signature:",
            ],
        };
        let [title, applicant, course, faculty, specialty, group, phone, email, number, service, reason, rest @ ..] =
            labels;
        let mut expected = vec![
            title.to_string(),
            d.addressee.into(),
            format!("{applicant}: {}", d.holder),
            format!("{course}: 3"),
            format!("{faculty}: {}", d.faculty),
            format!("{specialty}: {}", d.specialty),
            format!("{group}: {}", d.group),
            format!("{phone}: +7 701 234 56 78"),
            format!("{email}: student@example.kz"),
            format!("{number}: APP-2026-000123"),
            format!("{service}: {}", d.application_service),
            format!("{reason}: {}", d.application_reason),
            d.statement.into(),
        ];
        expected.extend(rest.iter().map(|s| s.to_string()));
        expected.extend(number_and_date_of_issue(language));
        check(&samples::application_form(language), &expected);
    }
}

#[test]
fn application_form_without_agreement_has_no_tick() {
    for language in LANGUAGES {
        let mut doc = samples::application_form(language);
        if let crate::pdf::Body::ApplicationForm(body) = &mut doc.body {
            body.agreed = false;
        }
        let text = pdf_text(&rendered(&doc));
        assert!(!text.contains('☑'), "{language:?}: {text}");
    }
}

#[test]
fn acceptance_notice() {
    for language in LANGUAGES {
        let expected: Vec<String> = match language {
            Language::Kk => vec![
                "ӨТІНІШТІҢ ҚАБЫЛДАНҒАНЫ ТУРАЛЫ ХАБАРЛАМА".into(),
                "Құрметті Гауһар Әлиханқызы Нұрланова!".into(),
                "Сіздің «Оқу туралы анықтама» қызметін алуға берген № APP-2026-000123 өтінішіңізді 10.03.2026 \
                 14:30 (UTC+05:00) Студенттерге қызмет көрсету орталығы қабылдады."
                    .into(),
                "Орындалуының жоспарланған мерзімі: 24.03.2026".into(),
            ],
            Language::Ru => vec![
                "УВЕДОМЛЕНИЕ О ПРИЁМЕ ЗАЯВЛЕНИЯ".into(),
                "Уважаемый(-ая) Иванова Мария Сергеевна!".into(),
                "Ваше заявление № APP-2026-000123 на оказание услуги «Справка об обучении» принято 10.03.2026 \
                 14:30 (UTC+05:00) подразделением «Центр обслуживания студентов»."
                    .into(),
                "Планируемый срок исполнения: 24.03.2026".into(),
            ],
            Language::En => vec![
                "NOTIFICATION OF ACCEPTANCE OF AN APPLICATION".into(),
                "Dear Aigerim Nurlanova,".into(),
                "Your application No. APP-2026-000123 for “Certificate of study” was accepted on 10 March 2026, \
                 14:30 (UTC+05:00) by the Student service centre."
                    .into(),
                "Planned completion date: 24 March 2026".into(),
            ],
        };
        let mut expected = expected;
        expected.push(data(language).organisation.to_string());
        expected.extend(number_and_date_of_issue(language));
        check(&samples::acceptance_notice(language), &expected);
    }
}

#[test]
fn notice_without_office_or_due_date() {
    let mut doc = samples::acceptance_notice(Language::En);
    if let crate::pdf::Body::AcceptanceNotice(body) = &mut doc.body {
        body.office.clear();
        body.planned_completion = None;
    }
    let text = normalise(&pdf_text(&rendered(&doc)));
    assert!(text.contains("was accepted on 10 March 2026, 14:30 (UTC+05:00)."), "{text}");
    assert!(!text.contains("Planned completion"), "{text}");
}

#[test]
fn substitutes_are_named_with_their_principal() {
    for (language, acting) in [
        (Language::Kk, "Сәуле Серікқызы Омарова орнына"),
        (Language::Ru, "за Омарова Сауле Сериковна"),
        (Language::En, "acting for Saule Omarova"),
    ] {
        let mut doc = samples::certificate_of_study(language, 1);
        if let Some(signatory) = &mut doc.signed_by {
            signatory.acting_for = data(language).principal.to_string();
        }
        if let crate::pdf::Body::CertificateOfStudy(body) = &mut doc.body {
            body.approvals[0].acting_for = "Principal Approver".to_string();
        }
        let text = normalise(&pdf_text(&rendered(&doc)));
        assert!(text.contains(acting), "{language:?} signature: {text}");
        let in_table = crate::pdf::texts::acting_for(language, "Principal Approver");
        assert!(text.contains(&in_table), "{language:?} table: {text}");
    }
}

#[test]
fn unsigned_documents_have_no_signature_block() {
    for language in LANGUAGES {
        let mut doc = samples::certificate_of_study(language, 1);
        doc.signed_by = None;
        let text = normalise(&pdf_text(&rendered(&doc)));
        let signed = &signature_and_footer(language)[0];
        assert!(!text.contains(signed.as_str()), "{language:?}: {text}");
    }
}
