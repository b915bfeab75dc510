//! Обходной лист / Айналма парақ / Clearance sheet: every department's decision on the holder, a numbered row each.
//! The table may run over several pages; its header repeats on each.

use super::{holder_details, letterhead, with_principal};
use crate::pdf::layout::Layout;
use crate::pdf::table::{Column, Table};
use crate::pdf::texts::common;
use crate::pdf::{ClearanceRow, ClearanceSheet, Decision, Language, Printed, locale};

struct Texts {
    title: &'static str,
    reason: &'static str,
    column_number: &'static str,
    column_department: &'static str,
    column_person: &'static str,
    column_decision: &'static str,
    column_date: &'static str,
    column_note: &'static str,
    approved: &'static str,
    rejected: &'static str,
    pending: &'static str,
}

const KK: Texts = Texts {
    title: "АЙНАЛМА ПАРАҚ",
    reason: "Ресімдеу себебі",
    column_number: "№",
    column_department: "Бөлімше",
    column_person: "Аты-жөні, лауазымы",
    column_decision: "Шешім",
    column_date: "Күні",
    column_note: "Ескертпе",
    approved: "Келісілді",
    rejected: "Келісілмеді",
    pending: "Қаралуда",
};

const RU: Texts = Texts {
    title: "ОБХОДНОЙ ЛИСТ",
    reason: "Причина оформления",
    column_number: "№",
    column_department: "Подразделение",
    column_person: "ФИО, должность",
    column_decision: "Решение",
    column_date: "Дата",
    column_note: "Примечание",
    approved: "Согласовано",
    rejected: "Не согласовано",
    pending: "На рассмотрении",
};

const EN: Texts = Texts {
    title: "CLEARANCE SHEET",
    reason: "Reason",
    column_number: "No.",
    column_department: "Department",
    column_person: "Full name, position",
    column_decision: "Decision",
    column_date: "Date",
    column_note: "Note",
    approved: "Approved",
    rejected: "Rejected",
    pending: "Pending",
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

pub(super) fn lay_out(layout: &mut Layout<'_>, doc: &Printed, body: &ClearanceSheet) {
    let t = texts(doc.language);
    letterhead(layout, doc);
    layout.field(common(doc.language).student, &body.holder.full_name);
    holder_details(layout, doc.language, &body.holder);
    layout.field(t.reason, &body.reason);
    layout.gap(12.0);
    let rows = body.rows.iter().enumerate().map(|(i, row)| cells(doc.language, t, i + 1, row)).collect();
    layout.table(&Table {
        columns: vec![
            Column { header: t.column_number, share: 0.06 },
            Column { header: t.column_department, share: 0.19 },
            Column { header: t.column_person, share: 0.23 },
            // Wide enough for "рассмотрении" unbroken.
            Column { header: t.column_decision, share: 0.17 },
            // Wide enough for "16 March 2026" on one line.
            Column { header: t.column_date, share: 0.16 },
            Column { header: t.column_note, share: 0.19 },
        ],
        rows,
    });
}

fn cells(language: Language, t: &Texts, number: usize, row: &ClearanceRow) -> Vec<String> {
    let person = match row.position.trim() {
        "" => row.full_name.clone(),
        position => format!("{}\n{position}", row.full_name),
    };
    let decision = match row.decision {
        Decision::Approved => t.approved,
        Decision::Rejected => t.rejected,
        Decision::Pending => t.pending,
    };
    vec![
        number.to_string(),
        row.department.clone(),
        with_principal(language, &person, &row.acting_for),
        decision.to_string(),
        row.decided_at.map(|at| locale::date(language, &at)).unwrap_or_default(),
        row.note.clone(),
    ]
}
