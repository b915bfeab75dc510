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
    DocumentIssued {
        registration_number: &'a str,
    },
    /// Someone checked the holder's document through the public verification.
    DocumentVerified {
        registration_number: &'a str,
        verifier: &'a str,
    },
}

impl Message<'_> {
    /// The notification's kind: the event type it reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::ApplicationSubmitted { .. } => "application.submitted",
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
    };
    Text { title: title.to_owned(), body }
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

    fn messages() -> [Message<'static>; 2] {
        [
            Message::ApplicationSubmitted { number: "KAZNU-2026-000123", service_name: "Certificate of study" },
            Message::DocumentIssued { registration_number: "KAZNU-CS-2026-000017" },
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
        assert_eq!(titles.len(), 6);
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
