//! Приказ / Бұйрық / Order on an academic service: the date and number line, the subject, the operative clause
//! granting the service to the holder, its basis, then the approvals.
//!
//! The holder is named in a list after a colon (kk, ru) rather than inside the clause, because names and faculty
//! names arrive in the nominative and cannot be declined into it.

use super::{approvals_table, letterhead};
use crate::pdf::layout::{Align, Layout};
use crate::pdf::page::BODY_SIZE;
use crate::pdf::wrap::{Span, bold, regular};
use crate::pdf::{Holder, Language, Order, Printed, locale};

pub(super) fn title(language: Language) -> &'static str {
    match language {
        Language::Kk => "БҰЙРЫҚ",
        Language::Ru => "ПРИКАЗ",
        Language::En => "ORDER",
    }
}

fn operative_word(language: Language) -> &'static str {
    match language {
        Language::Kk => "БҰЙЫРАМЫН:",
        Language::Ru => "ПРИКАЗЫВАЮ:",
        Language::En => "I HEREBY ORDER:",
    }
}

pub(super) fn lay_out(layout: &mut Layout<'_>, doc: &Printed, body: &Order) {
    let language = doc.language;
    letterhead(layout, doc);
    date_and_number(layout, doc);
    layout.gap(12.0);
    let subject = body.subject.trim();
    if !subject.is_empty() {
        layout.paragraph(&[bold(subject)], BODY_SIZE, Align::Left);
        layout.gap(12.0);
    }
    layout.paragraph(&[bold(operative_word(language))], BODY_SIZE, Align::Left);
    layout.gap(6.0);
    layout.paragraph(&clause(language, body), BODY_SIZE, Align::Left);
    if let Some(basis) = basis(language, body) {
        layout.gap(6.0);
        layout.paragraph(&[regular(basis)], BODY_SIZE, Align::Left);
    }
    approvals_table(layout, language, &body.approvals);
}

/// The date on the left and "№ <number>" on the right, as orders are registered; the number only on the printed
/// form (seed rule).
fn date_and_number(layout: &mut Layout<'_>, doc: &Printed) {
    let date = [bold(locale::date(doc.language, &doc.issued_at))];
    let number_sign = if doc.language == Language::En { "No." } else { "№" };
    let number = if doc.printed_form {
        vec![regular(format!("{number_sign}\u{a0}")), bold(doc.registration_number.as_str())]
    } else {
        Vec::new()
    };
    layout.left_and_right(&date, &number, BODY_SIZE);
}

/// "1. To grant <service> to <holder>, <course> year student, <faculty>, <specialty>, for the period from .. to ..".
fn clause<'a>(language: Language, body: &'a Order) -> Vec<Span<'a>> {
    let service = body.service_name.trim();
    let period =
        body.period.map(|(from, to)| (locale::calendar_date(language, &from), locale::calendar_date(language, &to)));
    let holder = body.holder.full_name.trim();
    let details = holder_description(language, &body.holder);
    match language {
        Language::Kk => {
            let period = period.map(|(from, to)| format!("{from} бастап {to} дейінгі кезеңге ")).unwrap_or_default();
            vec![
                regular(format!("1. Білім алушыға {period}{service} берілсін: ")),
                bold(holder),
                regular(format!("{details}.")),
            ]
        }
        Language::Ru => {
            let period = period.map(|(from, to)| format!(" на период с {from} по {to}")).unwrap_or_default();
            vec![
                regular(format!("1. Предоставить {service}{period} обучающемуся: ")),
                bold(holder),
                regular(format!("{details}.")),
            ]
        }
        Language::En => {
            let period = period.map(|(from, to)| format!(", for the period from {from} to {to}")).unwrap_or_default();
            vec![regular(format!("1. To grant {service} to ")), bold(holder), regular(format!("{details}{period}."))]
        }
    }
}

/// ", 3-курс, <faculty>, «<specialty>» мамандығы" and the like: what follows the holder's name, blank parts left
/// out.
fn holder_description(language: Language, holder: &Holder) -> String {
    let course = match (holder.course, language) {
        (0, _) => String::new(),
        (n, Language::Kk) => format!("{n}-курс"),
        (n, Language::Ru) => format!("{n} курс"),
        (n, Language::En) => format!("{} year student", locale::english_ordinal(n)),
    };
    let specialty = match (holder.specialty.trim(), language) {
        ("", _) => String::new(),
        (s, Language::Kk) => format!("«{s}» мамандығы"),
        (s, Language::Ru) => format!("специальность «{s}»"),
        (s, Language::En) => s.to_string(),
    };
    [course.as_str(), holder.faculty.trim(), specialty.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .map(|part| format!(", {part}"))
        .collect()
}

/// "Basis: application No. <n> of <date>", with whichever of the two is known; `None` when neither is.
fn basis(language: Language, body: &Order) -> Option<String> {
    let number = body.basis_application_number.trim();
    let date = body.basis_submitted_at.map(|at| locale::date(language, &at));
    if number.is_empty() && date.is_none() {
        return None;
    }
    let numbered = |sign: &str| if number.is_empty() { String::new() } else { format!(" {sign}\u{a0}{number}") };
    let dated = |before: &str, after: &str| date.as_ref().map(|d| format!(" {before}{d}{after}")).unwrap_or_default();
    Some(match language {
        // The date comes before the number in Kazakh: "білім алушының 10.03.2026 ж. № X өтініші".
        Language::Kk => format!("Негіздеме: білім алушының{}{} өтініші.", dated("", " ж."), numbered("№")),
        Language::Ru => format!("Основание: заявление обучающегося{}{}.", numbered("№"), dated("от ", "")),
        Language::En => format!("Basis: application{}{}.", numbered("No."), dated("of ", "")),
    })
}
