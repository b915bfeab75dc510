//! Уведомление о приёме заявления / Өтініштің қабылданғаны туралы хабарлама / Notification of acceptance: tells the
//! applicant that their application was accepted, when, by whom, and when the result is due.

use super::letterhead;
use crate::pdf::layout::{Align, Layout};
use crate::pdf::page::BODY_SIZE;
use crate::pdf::wrap::{Span, bold, regular};
use crate::pdf::{AcceptanceNotice, Language, Printed, locale};

pub(super) fn title(language: Language) -> &'static str {
    match language {
        Language::Kk => "ӨТІНІШТІҢ ҚАБЫЛДАНҒАНЫ ТУРАЛЫ ХАБАРЛАМА",
        Language::Ru => "УВЕДОМЛЕНИЕ О ПРИЁМЕ ЗАЯВЛЕНИЯ",
        Language::En => "NOTIFICATION OF ACCEPTANCE OF AN APPLICATION",
    }
}

fn planned_completion(language: Language) -> &'static str {
    match language {
        Language::Kk => "Орындалуының жоспарланған мерзімі",
        Language::Ru => "Планируемый срок исполнения",
        Language::En => "Planned completion date",
    }
}

pub(super) fn lay_out(layout: &mut Layout<'_>, doc: &Printed, body: &AcceptanceNotice) {
    let language = doc.language;
    letterhead(layout, doc);
    layout.paragraph(&salutation(language, body.holder_full_name.trim()), BODY_SIZE, Align::Left);
    layout.gap(10.0);
    layout.paragraph(&acceptance(language, body), BODY_SIZE, Align::Left);
    if let Some(due) = &body.planned_completion {
        layout.gap(10.0);
        layout.field(planned_completion(language), &locale::date(language, due));
    }
}

/// "Уважаемый(-ая)" because the holder's gender is not known.
fn salutation(language: Language, holder: &str) -> Vec<Span<'_>> {
    match language {
        Language::Kk => vec![regular("Құрметті "), bold(holder), regular("!")],
        Language::Ru => vec![regular("Уважаемый(-ая) "), bold(holder), regular("!")],
        Language::En => vec![regular("Dear "), bold(holder), regular(",")],
    }
}

/// "Your application No. <n> for “<service>” was accepted on <date and time> by <office>." The office is the
/// subject in Kazakh and an instrumental with a quoted name in Russian, so its name is never declined.
fn acceptance(language: Language, body: &AcceptanceNotice) -> Vec<Span<'static>> {
    let number = body.application_number.trim();
    let service = body.service_name.trim();
    let office = body.office.trim();
    let at = locale::date_time(language, &body.submitted_at);
    let sentence = match (language, office.is_empty()) {
        (Language::Kk, true) => {
            format!("Сіздің «{service}» қызметін алуға берген №\u{a0}{number} өтінішіңіз {at} қабылданды.")
        }
        (Language::Kk, false) => {
            format!("Сіздің «{service}» қызметін алуға берген №\u{a0}{number} өтінішіңізді {at} {office} қабылдады.")
        }
        (Language::Ru, true) => format!("Ваше заявление №\u{a0}{number} на оказание услуги «{service}» принято {at}."),
        (Language::Ru, false) => format!(
            "Ваше заявление №\u{a0}{number} на оказание услуги «{service}» принято {at} подразделением «{office}»."
        ),
        (Language::En, true) => format!("Your application No.\u{a0}{number} for “{service}” was accepted on {at}."),
        (Language::En, false) => {
            format!("Your application No.\u{a0}{number} for “{service}” was accepted on {at} by the {office}.")
        }
    };
    vec![regular(sentence)]
}
