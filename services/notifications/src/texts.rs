//! What a notification says, per kind and language: pure, so every text is checked without a database.

/// A notification's language; the applicant chose it for their application's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Kk,
    Ru,
    En,
}

impl Language {
    /// Unknown or missing languages fall back to Russian, the language every centre's staff and students share:
    /// a notification in the wrong language is better than none.
    pub fn parse_or_default(value: &str) -> Self {
        match value.trim().to_ascii_lowercase().as_str() {
            "kk" => Self::Kk,
            "en" => Self::En,
            _ => Self::Ru,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Kk => "kk",
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

/// What happened, with what the text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    ApplicationSubmitted {
        number: &'a str,
        service_name: &'a str,
    },
    /// Staff took the application into work.
    ApplicationAccepted {
        number: &'a str,
        executor_name: &'a str,
    },
    /// One department approved (or, rejecting, asked for rework), with its note.
    RowDecided {
        number: &'a str,
        department: &'a str,
        decided_by: &'a str,
        approved: bool,
        note: &'a str,
    },
    /// Every approval was given.
    ApplicationCompleted {
        number: &'a str,
    },
    ApplicationRefused {
        number: &'a str,
        reason: &'a str,
    },
    /// To the executor and the approvers: the applicant withdrew the application.
    ApplicationWithdrawn {
        number: &'a str,
        reason: &'a str,
    },
    /// To an approver: a stage's deadline is near.
    DeadlineReminder {
        number: &'a str,
        stage: &'a str,
        deadline: &'a str,
    },
    /// To whom routing escalates: a stage's deadline passed.
    DeadlineEscalated {
        number: &'a str,
        stage: &'a str,
        deadline: &'a str,
    },
    DocumentIssued {
        registration_number: &'a str,
    },
    /// Someone checked the holder's document through the public verification.
    DocumentVerified {
        registration_number: &'a str,
        verifier: &'a str,
    },
}

/// Every kind of notification, for preferences.
pub const KINDS: &[&str] = &[
    "application.submitted",
    "application.accepted",
    "sheet.row_decided",
    "application.completed",
    "application.refused",
    "application.withdrawn",
    "sheet.deadline_reminder",
    "sheet.deadline_escalated",
    "document.issued",
    "verification.recorded",
];

impl Message<'_> {
    /// The notification's kind: the event type it reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::ApplicationSubmitted { .. } => "application.submitted",
            Message::ApplicationAccepted { .. } => "application.accepted",
            Message::RowDecided { .. } => "sheet.row_decided",
            Message::ApplicationCompleted { .. } => "application.completed",
            Message::ApplicationRefused { .. } => "application.refused",
            Message::ApplicationWithdrawn { .. } => "application.withdrawn",
            Message::DeadlineReminder { .. } => "sheet.deadline_reminder",
            Message::DeadlineEscalated { .. } => "sheet.deadline_escalated",
            Message::DocumentIssued { .. } => "document.issued",
            Message::DocumentVerified { .. } => "verification.recorded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub title: String,
    pub body: String,
}

pub fn render(message: &Message<'_>, language: Language) -> Text {
    if let Some((title, body)) = render_progress(message, language) {
        return Text { title, body };
    }
    let (title, body) = match (message, language) {
        (Message::ApplicationSubmitted { number, service_name }, Language::Kk) => (
            "Өтінішіңіз өңдеуге қабылданды",
            format!(
                "«{service_name}» қызметіне № {number} өтініш тіркелді. Оның барысын жеке кабинетте қадағалай аласыз."
            ),
        ),
        (Message::ApplicationSubmitted { number, service_name }, Language::Ru) => (
            "Ваша заявка принята в обработку",
            format!(
                "Заявка № {number} на услугу «{service_name}» зарегистрирована. Следить за её ходом можно в личном кабинете."
            ),
        ),
        (Message::ApplicationSubmitted { number, service_name }, Language::En) => (
            "Your application has been accepted for processing",
            format!(
                "Application No. {number} for “{service_name}” has been registered. You can follow its progress in your account."
            ),
        ),
        (Message::DocumentIssued { registration_number }, Language::Kk) => (
            "Құжатыңыз дайын",
            format!("№ {registration_number} құжаты берілді. Оны жеке кабинеттен жүктеп алуға болады."),
        ),
        (Message::DocumentIssued { registration_number }, Language::Ru) => (
            "Ваш документ готов",
            format!("Документ № {registration_number} выдан. Его можно скачать в личном кабинете."),
        ),
        (Message::DocumentIssued { registration_number }, Language::En) => (
            "Your document is ready",
            format!("Document No. {registration_number} has been issued. You can download it from your account."),
        ),
        (Message::DocumentVerified { registration_number, verifier }, Language::Kk) => (
            "Құжатыңыз тексерілді",
            match *verifier {
                "" => format!("№ {registration_number} құжатыңыздың түпнұсқалығы тексерілді."),
                who => format!("№ {registration_number} құжатыңыздың түпнұсқалығын тексерген: {who}."),
            },
        ),
        (Message::DocumentVerified { registration_number, verifier }, Language::Ru) => (
            "Ваш документ проверили",
            match *verifier {
                "" => format!("Подлинность вашего документа № {registration_number} проверена."),
                who => format!("Подлинность вашего документа № {registration_number} проверил(а): {who}."),
            },
        ),
        (Message::DocumentVerified { registration_number, verifier }, Language::En) => (
            "Your document was verified",
            match *verifier {
                "" => format!("Someone verified your document No. {registration_number}."),
                who => format!("Your document No. {registration_number} was verified by {who}."),
            },
        ),
        // The kinds of `render_progress`.
        _ => ("", String::new()),
    };
    Text { title: title.to_owned(), body }
}

/// `" (who)"`, or nothing when nobody is named.
fn named(who: &str) -> String {
    if who.trim().is_empty() { String::new() } else { format!(" ({})", who.trim()) }
}

/// `"<label>: <text>"` after a space, or nothing when there is no text.
fn labelled(label: &str, text: &str) -> String {
    if text.trim().is_empty() { String::new() } else { format!(" {label}: {}", text.trim()) }
}

/// The texts of an application's progress, reworks, refusals, withdrawals and deadlines.
fn render_progress(message: &Message<'_>, language: Language) -> Option<(String, String)> {
    use Language::{En, Kk, Ru};
    let text = match (message, language) {
        (Message::ApplicationAccepted { number, executor_name }, Kk) => (
            "Өтінішіңіз жұмысқа алынды".to_owned(),
            format!("№ {number} өтінішті орындаушы жұмысқа алды{}.", named(executor_name)),
        ),
        (Message::ApplicationAccepted { number, executor_name }, Ru) => (
            "Ваша заявка взята в работу".to_owned(),
            format!("Заявку № {number} взял(а) в работу исполнитель{}.", named(executor_name)),
        ),
        (Message::ApplicationAccepted { number, executor_name }, En) => (
            "Your application has been taken into work".to_owned(),
            format!("Application No. {number} has been taken into work by an executor{}.", named(executor_name)),
        ),
        (Message::RowDecided { number, department, decided_by, approved: true, note }, Kk) => (
            format!("Өтінішіңіз келісілді: {department}"),
            format!("№ {number} өтінішті {department} келісті{}.{}", named(decided_by), labelled("Ескертпе", note)),
        ),
        (Message::RowDecided { number, department, decided_by, approved: true, note }, Ru) => (
            format!("Заявка согласована: {department}"),
            format!(
                "Заявка № {number} согласована: {department}{}.{}",
                named(decided_by),
                labelled("Комментарий", note)
            ),
        ),
        (Message::RowDecided { number, department, decided_by, approved: true, note }, En) => (
            format!("Approved by {department}"),
            format!(
                "Application No. {number} was approved by {department}{}.{}",
                named(decided_by),
                labelled("Note", note)
            ),
        ),
        (Message::RowDecided { number, department, decided_by, approved: false, note }, Kk) => (
            "Өтінішіңіз пысықтауға қайтарылды".to_owned(),
            format!(
                "№ {number} өтінішті {department} пысықтауға қайтарды{}.{}",
                named(decided_by),
                labelled("Себебі", note)
            ),
        ),
        (Message::RowDecided { number, department, decided_by, approved: false, note }, Ru) => (
            "Заявка возвращена на доработку".to_owned(),
            format!(
                "Заявку № {number} вернули на доработку: {department}{}.{}",
                named(decided_by),
                labelled("Причина", note)
            ),
        ),
        (Message::RowDecided { number, department, decided_by, approved: false, note }, En) => (
            "Your application needs rework".to_owned(),
            format!(
                "{department}{} returned application No. {number} for rework.{}",
                named(decided_by),
                labelled("Reason", note)
            ),
        ),
        (Message::ApplicationCompleted { number }, Kk) => (
            "Өтінішіңіз толық келісілді".to_owned(),
            format!("№ {number} өтініш бойынша барлық келісімдер алынды. Құжат дайындалуда."),
        ),
        (Message::ApplicationCompleted { number }, Ru) => (
            "Заявка согласована всеми".to_owned(),
            format!("По заявке № {number} получены все согласования. Документ готовится к выдаче."),
        ),
        (Message::ApplicationCompleted { number }, En) => (
            "Your application has been fully approved".to_owned(),
            format!("Every approval of application No. {number} has been given. The document is being prepared."),
        ),
        (Message::ApplicationRefused { number, reason }, Kk) => (
            "Өтінішіңіз қабылданбады".to_owned(),
            format!("№ {number} өтініш қабылданбады.{}", labelled("Себебі", reason)),
        ),
        (Message::ApplicationRefused { number, reason }, Ru) => {
            ("В заявке отказано".to_owned(), format!("По заявке № {number} отказано.{}", labelled("Причина", reason)))
        }
        (Message::ApplicationRefused { number, reason }, En) => (
            "Your application has been refused".to_owned(),
            format!("Application No. {number} has been refused.{}", labelled("Reason", reason)),
        ),
        (Message::ApplicationWithdrawn { number, reason }, Kk) => (
            "Өтініш кері қайтарып алынды".to_owned(),
            format!("Өтініш беруші № {number} өтінішті кері қайтарып алды.{}", labelled("Себебі", reason)),
        ),
        (Message::ApplicationWithdrawn { number, reason }, Ru) => (
            "Заявка отозвана".to_owned(),
            format!("Заявитель отозвал заявку № {number}.{}", labelled("Причина", reason)),
        ),
        (Message::ApplicationWithdrawn { number, reason }, En) => (
            "An application was withdrawn".to_owned(),
            format!("The applicant withdrew application No. {number}.{}", labelled("Reason", reason)),
        ),
        (Message::DeadlineReminder { number, stage, deadline }, Kk) => (
            "Келісу мерзімі жақындап қалды".to_owned(),
            format!("№ {number} өтінішті ({stage}-кезең) {deadline} дейін келісу қажет."),
        ),
        (Message::DeadlineReminder { number, stage, deadline }, Ru) => (
            "Подходит срок согласования".to_owned(),
            format!("Заявку № {number} (этап {stage}) нужно согласовать до {deadline}."),
        ),
        (Message::DeadlineReminder { number, stage, deadline }, En) => (
            "An approval is due soon".to_owned(),
            format!("Application No. {number} (stage {stage}) must be decided by {deadline}."),
        ),
        (Message::DeadlineEscalated { number, stage, deadline }, Kk) => (
            "Келісу мерзімі өтіп кетті".to_owned(),
            format!("№ {number} өтінішті ({stage}-кезең) келісу мерзімі {deadline} өтіп кетті."),
        ),
        (Message::DeadlineEscalated { number, stage, deadline }, Ru) => (
            "Срок согласования нарушен".to_owned(),
            format!("Срок согласования заявки № {number} (этап {stage}) истёк {deadline}."),
        ),
        (Message::DeadlineEscalated { number, stage, deadline }, En) => (
            "An approval is overdue".to_owned(),
            format!("The approval of application No. {number} (stage {stage}) was due by {deadline}."),
        ),
        _ => return None,
    };
    Some(text)
}

/// A notification as an e-mail: the title as subject, plain text and a small HTML version of the same words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailText {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn email(text: &Text, language: Language) -> EmailText {
    let (title, body) = (escape_html(&text.title), escape_html(&text.body));
    EmailText {
        subject: text.title.clone(),
        text: format!("{}\n\n{}\n", text.title, text.body),
        html: format!(
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
             <body><h1>{title}</h1><p>{body}</p></body></html>\n",
            language.code()
        ),
    }
}

/// Service names and numbers come from other services' events: never let them become markup.
fn escape_html(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const ALL: [Language; 3] = [Language::Kk, Language::Ru, Language::En];

    fn messages() -> [Message<'static>; 10] {
        [
            Message::ApplicationSubmitted { number: "KAZNU-2026-000123", service_name: "Certificate of study" },
            Message::DocumentIssued { registration_number: "KAZNU-CS-2026-000017" },
            Message::ApplicationAccepted { number: "KAZNU-2026-000123", executor_name: "Dana Executor" },
            Message::RowDecided {
                number: "KAZNU-2026-000123",
                department: "Dean's office",
                decided_by: "G. Abenova",
                approved: true,
                note: "ok",
            },
            Message::RowDecided {
                number: "KAZNU-2026-000123",
                department: "Registrar",
                decided_by: "Y. Sadykov",
                approved: false,
                note: "attach the order",
            },
            Message::ApplicationCompleted { number: "KAZNU-2026-000123" },
            Message::ApplicationRefused { number: "KAZNU-2026-000123", reason: "not a student" },
            Message::ApplicationWithdrawn { number: "KAZNU-2026-000123", reason: "no longer needed" },
            Message::DeadlineReminder { number: "KAZNU-2026-000123", stage: "2", deadline: "01.12.2026 18:00 UTC" },
            Message::DeadlineEscalated { number: "KAZNU-2026-000123", stage: "2", deadline: "01.12.2026 18:00 UTC" },
        ]
    }

    #[test]
    fn every_kind_has_a_distinct_text_in_every_language() {
        let mut titles = HashSet::new();
        let mut bodies = HashSet::new();
        for message in messages() {
            for language in ALL {
                let text = render(&message, language);
                assert!(!text.title.trim().is_empty() && !text.body.trim().is_empty(), "{message:?} {language:?}");
                assert!(titles.insert(text.title.clone()), "duplicate title {:?}", text.title);
                assert!(bodies.insert(text.body.clone()), "duplicate body {:?}", text.body);
            }
        }
        assert_eq!(titles.len(), 30);
        assert_eq!(KINDS.len(), messages().iter().map(Message::kind).collect::<HashSet<_>>().len() + 1, "and verified");
    }

    #[test]
    fn bodies_name_what_happened() {
        for language in ALL {
            let submitted = render(&messages()[0], language).body;
            assert!(
                submitted.contains("KAZNU-2026-000123") && submitted.contains("Certificate of study"),
                "{submitted}"
            );
            let issued = render(&messages()[1], language).body;
            assert!(issued.contains("KAZNU-CS-2026-000017"), "{issued}");
            for (message, named) in [
                (2, "Dana Executor"),
                (3, "ok"),
                (4, "attach the order"),
                (6, "not a student"),
                (7, "no longer needed"),
                (8, "01.12.2026 18:00 UTC"),
                (9, "01.12.2026 18:00 UTC"),
            ] {
                let body = render(&messages()[message], language).body;
                assert!(body.contains(named) && body.contains("KAZNU-2026-000123"), "{body}");
            }
        }
    }

    #[test]
    fn the_seeds_wording_is_kept() {
        let submitted = &messages()[0];
        assert_eq!(render(submitted, Language::En).title, "Your application has been accepted for processing");
        assert_eq!(render(submitted, Language::Ru).title, "Ваша заявка принята в обработку");
        assert_eq!(render(submitted, Language::Kk).title, "Өтінішіңіз өңдеуге қабылданды");
        assert_eq!(submitted.kind(), "application.submitted");
        assert_eq!(messages()[1].kind(), "document.issued");
    }

    #[test]
    fn e_mails_repeat_the_notification_with_escaped_html() {
        let message = Message::ApplicationSubmitted { number: "7", service_name: "<b>A & \"B\"</b>" };
        let text = render(&message, Language::Kk);
        let email = email(&text, Language::Kk);
        assert_eq!(email.subject, "Өтінішіңіз өңдеуге қабылданды");
        assert!(email.text.starts_with("Өтінішіңіз өңдеуге қабылданды\n\n") && email.text.contains("<b>A & \"B\"</b>"));
        assert!(email.html.contains("&lt;b&gt;A &amp; &quot;B&quot;&lt;/b&gt;"), "{}", email.html);
        assert!(!email.html.contains("<b>") && email.html.contains("lang=\"kk\""));
    }

    #[test]
    fn languages_fall_back_to_russian() {
        assert_eq!(Language::parse_or_default("KK"), Language::Kk);
        assert_eq!(Language::parse_or_default("en"), Language::En);
        assert_eq!(Language::parse_or_default(""), Language::Ru);
        assert_eq!(Language::parse_or_default("de"), Language::Ru);
    }
}
