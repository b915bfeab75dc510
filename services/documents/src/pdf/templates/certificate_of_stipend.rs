//! Справка о стипендии / Стипендия туралы анықтама / Certificate of stipend: confirms that the holder studies at the
//! organisation and receives a stipend of a given monthly amount, over a period when one is given.

use super::{approvals_table, holder_details, letterhead, optional_paragraph};
use crate::pdf::layout::{Align, Layout};
use crate::pdf::page::BODY_SIZE;
use crate::pdf::wrap::{Span, bold, regular};
use crate::pdf::{CertificateOfStipend, Language, Printed, locale};

pub(super) fn title(language: Language) -> &'static str {
    match language {
        Language::Kk => "СТИПЕНДИЯ ТУРАЛЫ АНЫҚТАМА",
        Language::Ru => "СПРАВКА О СТИПЕНДИИ",
        Language::En => "CERTIFICATE OF STIPEND",
    }
}

pub(super) fn lay_out(layout: &mut Layout<'_>, doc: &Printed, body: &CertificateOfStipend) {
    letterhead(layout, doc);
    let sentence = Sentence {
        language: doc.language,
        holder: body.holder.full_name.trim(),
        organisation: &doc.organisation_name,
        stipend_name: body.stipend_name.trim(),
        amount: locale::tenge(doc.language, body.monthly_amount_tenge),
        period: body
            .period
            .map(|(from, to)| (locale::calendar_date(doc.language, &from), locale::calendar_date(doc.language, &to))),
    };
    layout.paragraph(&sentence.spans(), BODY_SIZE, Align::Left);
    layout.gap(6.0);
    holder_details(layout, doc.language, &body.holder);
    optional_paragraph(layout, &body.purpose);
    approvals_table(layout, doc.language, &body.approvals);
}

/// The certifying sentence's parts, already formatted for the language.
struct Sentence<'a> {
    language: Language,
    holder: &'a str,
    organisation: &'a str,
    /// Blank → "a stipend" without a name.
    stipend_name: &'a str,
    amount: String,
    period: Option<(String, String)>,
}

impl<'a> Sentence<'a> {
    /// The stipend's name goes in parentheses after the word "stipend": names are given in the nominative and
    /// usually contain the word themselves ("State educational grant stipend"), so they cannot be declined into the
    /// sentence.
    fn spans(self) -> Vec<Span<'a>> {
        let name = if self.stipend_name.is_empty() { String::new() } else { format!(" ({})", self.stipend_name) };
        let organisation = self.organisation;
        match self.language {
            Language::Kk => {
                let period =
                    self.period.map(|(from, to)| format!("{from} бастап {to} дейінгі кезеңде ")).unwrap_or_default();
                vec![
                    regular("Осы анықтама "),
                    bold(self.holder),
                    regular(format!(
                        " шын мәнінде «{organisation}» білім беру ұйымында білім алатынын және {period}айына "
                    )),
                    bold(self.amount),
                    regular(format!(" мөлшерінде стипендия{name} алатынын растайды.")),
                ]
            }
            Language::Ru => {
                let period = self.period.map(|(from, to)| format!(" за период с {from} по {to}")).unwrap_or_default();
                vec![
                    regular("Настоящей справкой подтверждается, что "),
                    bold(self.holder),
                    regular(format!(
                        " действительно обучается в организации образования «{organisation}» и получает \
                         стипендию{name} в размере "
                    )),
                    bold(self.amount),
                    regular(format!(" в месяц{period}.")),
                ]
            }
            Language::En => {
                let period =
                    self.period.map(|(from, to)| format!(" for the period from {from} to {to}")).unwrap_or_default();
                vec![
                    regular("This is to certify that "),
                    bold(self.holder),
                    regular(format!(
                        " is a student of {organisation} and receives a stipend{name} in the monthly amount of "
                    )),
                    bold(self.amount),
                    regular(format!("{period}.")),
                ]
            }
        }
    }
}
