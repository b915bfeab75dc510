//! Справка об обучении / Оқу туралы анықтама / Certificate of study: confirms that the holder studies at the
//! organisation.

use super::{approvals_table, holder_details, letterhead, optional_paragraph};
use crate::pdf::layout::{Align, Layout};
use crate::pdf::page::BODY_SIZE;
use crate::pdf::wrap::{Span, bold, regular};
use crate::pdf::{CertificateOfStudy, Language, Printed};

pub(super) fn title(language: Language) -> &'static str {
    match language {
        Language::Kk => "ОҚУ ТУРАЛЫ АНЫҚТАМА",
        Language::Ru => "СПРАВКА ОБ ОБУЧЕНИИ",
        Language::En => "CERTIFICATE OF STUDY",
    }
}

pub(super) fn lay_out(layout: &mut Layout<'_>, doc: &Printed, body: &CertificateOfStudy) {
    letterhead(layout, doc);
    let sentence = certifying_sentence(doc.language, body.holder.full_name.trim(), &doc.organisation_name);
    layout.paragraph(&sentence, BODY_SIZE, Align::Left);
    layout.gap(6.0);
    holder_details(layout, doc.language, &body.holder);
    optional_paragraph(layout, &body.purpose);
    approvals_table(layout, doc.language, &body.approvals);
}

/// The holder comes first in all three languages, in bold.
fn certifying_sentence<'a>(language: Language, holder: &'a str, organisation: &str) -> Vec<Span<'a>> {
    match language {
        Language::Kk => vec![
            regular("Осы анықтама "),
            bold(holder),
            regular(format!(" шын мәнінде «{organisation}» білім беру ұйымында білім алатынын растайды.")),
        ],
        Language::Ru => vec![
            regular("Настоящей справкой подтверждается, что "),
            bold(holder),
            regular(format!(" действительно обучается в организации образования «{organisation}».")),
        ],
        Language::En => {
            vec![
                regular("This is to certify that "),
                bold(holder),
                regular(format!(" is a student of {organisation}.")),
            ]
        }
    }
}
