//! The static texts several templates share, in Kazakh, Russian and English: the holder's details, the approvals
//! table, the footer and the signature block. A template's own texts live with the template.

use super::Language;

pub(super) struct Common {
    /// The holder as a labelled line: "Student: <full name>".
    pub(super) student: &'static str,
    pub(super) faculty: &'static str,
    pub(super) specialty: &'static str,
    pub(super) course: &'static str,
    pub(super) group: &'static str,
    pub(super) approvals: &'static str,
    pub(super) column_full_name: &'static str,
    pub(super) column_position: &'static str,
    pub(super) column_department: &'static str,
    pub(super) column_date: &'static str,
    pub(super) registration_number: &'static str,
    pub(super) date_of_issue: &'static str,
    pub(super) verification_note: &'static str,
    pub(super) signed_electronically: &'static str,
    pub(super) signed_at: &'static str,
    pub(super) key_id: &'static str,
}

const KK: Common = Common {
    student: "Білім алушы",
    faculty: "Факультеті",
    specialty: "Мамандығы",
    course: "Курсы",
    group: "Тобы",
    approvals: "Келісілді",
    column_full_name: "Аты-жөні",
    column_position: "Лауазымы",
    column_department: "Бөлімшесі",
    column_date: "Күні",
    registration_number: "Тіркеу нөмірі",
    date_of_issue: "Берілген күні",
    verification_note: "Құжаттың түпнұсқалығын QR-кодты сканерлеп тексеруге болады.",
    signed_electronically: "Электрондық қолтаңбамен қол қойылды",
    signed_at: "Қол қойылған күні мен уақыты",
    key_id: "Кілт идентификаторы",
};

const RU: Common = Common {
    student: "Обучающийся",
    faculty: "Факультет",
    specialty: "Специальность",
    course: "Курс",
    group: "Группа",
    approvals: "Согласовано",
    column_full_name: "ФИО",
    column_position: "Должность",
    column_department: "Подразделение",
    column_date: "Дата",
    registration_number: "Регистрационный номер",
    date_of_issue: "Дата выдачи",
    verification_note: "Подлинность документа можно проверить, отсканировав QR-код.",
    signed_electronically: "Подписано электронной подписью",
    signed_at: "Дата и время подписания",
    key_id: "Идентификатор ключа",
};

const EN: Common = Common {
    student: "Student",
    faculty: "Faculty",
    specialty: "Specialty",
    course: "Year of study",
    group: "Group",
    approvals: "Approved by",
    column_full_name: "Full name",
    column_position: "Position",
    column_department: "Department",
    column_date: "Date",
    registration_number: "Registration number",
    date_of_issue: "Date of issue",
    verification_note: "The authenticity of this document can be verified by scanning the QR code.",
    signed_electronically: "Signed electronically",
    signed_at: "Date and time of signing",
    key_id: "Key ID",
};

pub(super) fn common(language: Language) -> &'static Common {
    match language {
        Language::Kk => &KK,
        Language::Ru => &RU,
        Language::En => &EN,
    }
}

/// Who a substitute decided or signed for: "за <x>", "<x> орнына", "acting for <x>".
pub(super) fn acting_for(language: Language, principal: &str) -> String {
    match language {
        Language::Kk => format!("{principal} орнына"),
        Language::Ru => format!("за {principal}"),
        Language::En => format!("acting for {principal}"),
    }
}
