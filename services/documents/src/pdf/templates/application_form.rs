//! Өтініш / Заявление / Application: the printed form of an application, as the applicant filled it in. The
//! addressee and the applicant's details stand in the right half, as on a paper application; then the title, the
//! application's number, service and reason, the statement, the agreement tick, the date and a line to sign on.
//!
//! The applicant is given as a labelled line ("Applicant: <name>") rather than "from <name>", because names arrive
//! in the nominative and Kazakh and Russian would need them declined after "from".

use super::course;
use crate::pdf::layout::{Align, Layout, Region};
use crate::pdf::page::{BODY_SIZE, TITLE_SIZE};
use crate::pdf::texts::common;
use crate::pdf::wrap::{bold, regular};
use crate::pdf::{ApplicationForm, Language, Printed, locale};

struct Texts {
    title: &'static str,
    applicant: &'static str,
    phone: &'static str,
    email: &'static str,
    application_number: &'static str,
    service: &'static str,
    reason: &'static str,
    agreement: &'static str,
    submitted: &'static str,
    signature: &'static str,
}

const KK: Texts = Texts {
    title: "ӨТІНІШ",
    applicant: "Өтініш беруші",
    phone: "Телефон",
    email: "Электрондық пошта",
    application_number: "Өтініш нөмірі",
    service: "Қызмет",
    reason: "Себебі",
    agreement: "Таныстым және келісемін",
    submitted: "Өтініш берілген күні",
    signature: "Қолы",
};

const RU: Texts = Texts {
    title: "ЗАЯВЛЕНИЕ",
    applicant: "Заявитель",
    phone: "Телефон",
    email: "Электронная почта",
    application_number: "Номер заявления",
    service: "Услуга",
    reason: "Причина",
    agreement: "Ознакомлен(а) и согласен(на)",
    submitted: "Дата подачи",
    signature: "Подпись",
};

const EN: Texts = Texts {
    title: "APPLICATION",
    applicant: "Applicant",
    phone: "Phone",
    email: "E-mail",
    application_number: "Application No.",
    service: "Service",
    reason: "Reason",
    agreement: "I have read and agree",
    submitted: "Date of submission",
    signature: "Signature",
};

fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Kk => &KK,
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

pub(super) fn title(language: Language) -> &'static str {
    texts(language).title
}

/// The applicant's half of the page starts at its middle.
const ADDRESS_SHARE: f32 = 0.5;
/// A ballot box with a check (U+2611), a glyph DejaVu Sans has in both weights.
const TICKED_BOX: &str = "\u{2611}";
/// Room for a handwritten signature on the paper copy.
const SIGNATURE_LINE: &str = "____________________";

pub(super) fn lay_out(layout: &mut Layout<'_>, doc: &Printed, body: &ApplicationForm) {
    let language = doc.language;
    let t = texts(language);
    let c = common(language);

    let right = Region::right(ADDRESS_SHARE);
    let addressee = body.addressee.trim();
    if !addressee.is_empty() {
        layout.paragraph_in(right, &[bold(addressee)], BODY_SIZE, Align::Left);
        layout.gap(6.0);
    }
    let holder = &body.holder;
    for (label, value) in [
        (t.applicant, holder.full_name.as_str()),
        (c.course, course(holder.course).as_str()),
        (c.faculty, holder.faculty.as_str()),
        (c.specialty, holder.specialty.as_str()),
        (c.group, holder.group.as_str()),
        (t.phone, body.phone.as_str()),
        (t.email, body.email.as_str()),
    ] {
        layout.field_in(right, label, value);
    }

    layout.gap(24.0);
    layout.paragraph(&[bold(t.title)], TITLE_SIZE, Align::Centre);
    layout.gap(18.0);

    layout.field(t.application_number, &body.application_number);
    layout.field(t.service, &body.service_name);
    layout.field(t.reason, &body.reason);
    let statement = body.statement.trim();
    if !statement.is_empty() {
        layout.gap(10.0);
        layout.paragraph(&[regular(statement)], BODY_SIZE, Align::Left);
    }
    if body.agreed {
        layout.gap(10.0);
        layout.paragraph(&[regular(format!("{TICKED_BOX} {}", t.agreement))], BODY_SIZE, Align::Left);
    }

    layout.gap(24.0);
    layout.left_and_right(
        &[regular(format!("{}: ", t.submitted)), bold(locale::date(language, &body.submitted_at))],
        &[regular(format!("{}: {SIGNATURE_LINE}", t.signature))],
        BODY_SIZE,
    );
}
