//! The real catalog from the seeds (000 KazNMU, 001 KazNU "Keremet", 004 Hero Study), as data: `data/catalog.json`,
//! compiled into the binary. Texts the seeds give in one language are machine-translated into the other two, and
//! such entries carry `translations_reviewed: false` until someone reviews them.

use serde::{Deserialize, Serialize};

pub use crate::domain::Department;
use crate::domain::{Section, ServiceDefinition};

const CATALOG_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog.json"));

/// The section tree, the departments approval routes name, and the services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogData {
    pub sections: Vec<Section>,
    pub departments: Vec<Department>,
    pub services: Vec<ServiceDefinition>,
}

/// Parses the catalog shipped with the service.
pub fn catalog_data() -> Result<CatalogData, serde_json::Error> {
    serde_json::from_str(CATALOG_JSON)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::domain::{DocumentKind, Fee, Language, valid_code};

    /// Seed 000 (KazNMU Digital Service Center): the services offered after signing in.
    const SEED_000: &[&str] = &["Смена ФИО", "Получение обходного листа", "Летний семестр"];

    /// Seed 001 (KazNU "Keremet"): every office's operations, the medical examinations and the e-services list.
    /// Russian names as the seed writes them; where the seed's typing is off, the fix is noted.
    const SEED_001: &[&str] = &[
        // Registrar office
        "Выдача транскрипта",
        "Перезачет кредитов и дисциплин услугополучателя",
        "Дополнительный вид обучения услугополучателя",
        "Разница или задолженность «Retake» дисциплин в текущий семестр",
        "Летний семестр",
        "Регистрация дисциплин",
        "Перерегистрация дисциплин",
        // Student office
        "Выдача дубликата диплома",
        "Выдача копий документов обучающихся",
        "Выдача ответного письма по запросу о конкретном студенте",
        // Passport office
        "Регистрация",
        "Снятие с регистрации",
        "Выдача справок и других документов",
        // International office
        "Консультирование по вопросам международной академической мобильности",
        "Заграничная командировка обучающихся в рамках краткосрочной/долгосрочной академической мобильности",
        "Заграничная командировка профессорско-преподавательского состава и сотрудников",
        "Оформление визовой поддержки",
        "Продление срока действия визы/выдача выездной визы",
        "Оформление временной регистрации/перерегистрации иностранных граждан",
        // Accounting and reporting department
        "Стипендии",
        "Командировка обучающихся",
        "Платное обучение",
        "Общежитие",
        // Career and professional development centre
        "Информация студентам об имеющихся вакансиях", // seed: "о имеющихся"
        "Консультация студентов по летним и иным профессиональным стажировкам и базам практик",
        "Сбор резюме студентов и выпускников КазНУ им. аль-Фараби", // seed: "КазНУим."
        "Консультация по составлению и оформлению резюме студентов и выпускников КазНУ им. аль-Фараби",
        "Осуществление платных услуг частным лицам (работодателям)",
        // Medical services
        "Измерение частоты пульса",
        "Измерение артериального давления",
        "Электрокардиография",
        "Спирография",
        "Исследования зрения",
        "Исследование слуха",
        "Общий анализ крови", // seed: "общий анализ", listed with the blood tests
        "Биохимический анализ крови",
        "Иммунохимический анализ крови",
        "Общий анализ мочи",
        "Прямая рентгенография грудной клетки",
        "УЗИ (печень и почки)",
        "Кольпоскопия",
        "Гинекологический мазок",
        "Измерение роста, веса, индекса массы тела",
        "Определение биологического возраста",
        // Youth centre
        "Регистрация студенческих организаций и клубов по интересам",
        "Консультация по реализации молодежных проектов",
        "Прием заявлений на членство в студенческие организации",
        "Консультация по социальному пакету и предоставлению социальной помощи детям-сиротам", // seed: "детям сиротам"
        // E-services
        "Отчисление по собственному желанию",
        "Уход в академический отпуск",
        "Возврат из академического отпуска",
        "Изменение персональных данных",
        "Перевод внутри вуза",
        "Перевод в другой вуз",
        "Восстановление ранее отчисленных",
        "Восстановление ранее отчисленных из другого вуза",
        "Восстановление с повторным допуском на ГАК",
        "Повышение уровня успеваемости GPA",
        "Ликвидация академической задолженности при смене учебного плана",
        "Ликвидация академической задолженности (неудовл.-F)",
        "Отмена заявок по ликвидации академической задолженности (неудовл.-F)", // seed: "по ликвидация … (неудов-F)"
        "Справка об обучении",
        "Справка о получении стипендии",
        "Обходной лист",
        "Внешняя краткосрочная академическая мобильность",
        "Внешняя долгосрочная академическая мобильность",
        "Возврат студентов по академической мобильности (долгосрочная)", // seed: "по академическая мобильность"
    ];

    /// Seed 004 (Hero Study, "Менің сұрауларым"): the request kinds reference, service and add/drop with its four
    /// options, and the requests the guide names (official transcript, ID restoration, change of advisor).
    /// The seed types the Kazakh "ә" as the Latin "ə"; the comparison folds one into the other.
    const SEED_004: &[&str] = &[
        "Анықтама",
        "Ресми транскрипт",
        "Қызмет",
        "ID қалпына келтіру",
        "Кураторды ауыстыру",
        "Пəнді ауыстыру",
        "Пəннен бас тарту",
        "Пəн қосу",
        "Потокты ауыстыру",
    ];

    fn data() -> CatalogData {
        catalog_data().expect("data/catalog.json parses")
    }

    fn fold(name: &str) -> String {
        name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().replace('ə', "ә")
    }

    /// The top-level section a section sits under.
    fn root<'a>(sections: &'a BTreeMap<&'a str, &'a Section>, code: &'a str) -> &'a str {
        let mut current = code;
        for _ in 0..sections.len() {
            match sections.get(current).and_then(|s| s.parent.as_deref()) {
                Some(parent) => current = parent,
                None => return current,
            }
        }
        panic!("the section tree has a cycle through {code}");
    }

    /// Every name is a service (by its ru or kk name) sitting under one of `roots` (or, with `not`, under none).
    fn assert_covered(seed: &str, names: &[&str], roots: &[&str], not: bool) {
        let data = data();
        let sections: BTreeMap<_, _> = data.sections.iter().map(|s| (s.code.as_str(), s)).collect();
        let missing: Vec<_> = names
            .iter()
            .filter(|name| {
                !data.services.iter().any(|s| {
                    let named = fold(&s.name.ru) == fold(name) || fold(&s.name.kk) == fold(name);
                    named && roots.contains(&root(&sections, &s.section)) != not
                })
            })
            .collect();
        assert!(missing.is_empty(), "seed {seed}: not in the catalog: {missing:?}");
    }

    #[test]
    fn every_service_of_seed_000_is_in_the_kaznmu_section() {
        assert_covered("000", SEED_000, &["kaznmu"], false);
    }

    #[test]
    fn every_service_of_seed_001_is_in_the_keremet_offices_or_e_services() {
        assert_covered("001", SEED_001, &["kaznmu", "hero-study"], true);
    }

    #[test]
    fn every_request_kind_of_seed_004_is_in_the_hero_study_section() {
        assert_covered("004", SEED_004, &["hero-study"], false);
    }

    #[test]
    fn the_json_holds_no_key_the_types_do_not_know() {
        // Serde skips unknown keys of a service: a misspelt one would silently become a default. Re-serialising
        // every entry must give back exactly what the file holds.
        let raw: serde_json::Value = serde_json::from_str(CATALOG_JSON).expect("json");
        let data = data();
        for (kind, parsed) in [
            ("sections", serde_json::to_value(&data.sections).expect("sections")),
            ("departments", serde_json::to_value(&data.departments).expect("departments")),
            ("services", serde_json::to_value(&data.services).expect("services")),
        ] {
            let raw = raw[kind].as_array().expect(kind);
            let parsed = parsed.as_array().expect(kind).clone();
            for (raw, parsed) in raw.iter().zip(&parsed) {
                assert_eq!(raw, parsed, "{kind}: {} has unknown or misspelt keys", raw["code"]);
            }
        }
    }

    #[test]
    fn sections_form_a_tree_with_valid_unique_codes() {
        let data = data();
        let codes: BTreeSet<_> = data.sections.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes.len(), data.sections.len(), "section codes are unique");
        let by_code: BTreeMap<_, _> = data.sections.iter().map(|s| (s.code.as_str(), s)).collect();
        for s in &data.sections {
            assert!(valid_code(&s.code), "section code {:?}", s.code);
            if let Some(parent) = &s.parent {
                assert!(codes.contains(parent.as_str()), "{}: parent {parent} does not exist", s.code);
            }
            root(&by_code, &s.code);
            let n = &s.name;
            assert!(!n.kk.trim().is_empty() && !n.ru.trim().is_empty() && !n.en.trim().is_empty(), "{}", s.code);
        }
        for office in [
            "registrar",
            "student-office",
            "passport-office",
            "international-office",
            "accounting",
            "career-centre",
            "medical-services",
            "youth-centre",
            "e-services",
            "kaznmu",
            "hero-study",
        ] {
            assert_eq!(by_code.get(office).map(|s| s.parent.as_deref()), Some(None), "{office} is a top-level section");
        }
    }

    #[test]
    fn every_service_is_complete_and_routed_to_known_departments() {
        let data = data();
        let sections: BTreeMap<_, _> = data.sections.iter().map(|s| (s.code.as_str(), s)).collect();
        let departments: BTreeSet<_> = data.departments.iter().map(|d| d.code.clone()).collect();
        assert_eq!(departments.len(), data.departments.len(), "department codes are unique");
        for d in &data.departments {
            assert!(valid_code(&d.code), "department code {:?}", d.code);
            assert!(!d.name.kk.trim().is_empty() && !d.name.ru.trim().is_empty() && !d.name.en.trim().is_empty());
        }
        let mut codes = BTreeSet::new();
        for s in &data.services {
            assert!(codes.insert(s.code.as_str()), "service code {} is not unique", s.code);
            // The rules an admin's definition must pass hold for the shipped ones too.
            crate::domain::define(&Default::default(), s.clone()).unwrap_or_else(|e| panic!("{}: {e}", s.code));
            crate::domain::check_route(s, &departments).unwrap_or_else(|e| panic!("{}: {e}", s.code));
            assert!(sections.contains_key(s.section.as_str()), "{}: section {} does not exist", s.code, s.section);
            let office = sections.get(s.office.as_str()).unwrap_or_else(|| panic!("{}: office {}", s.code, s.office));
            assert_eq!(office.parent, None, "{}: office {} is not a top-level section", s.code, s.office);
            assert!(!s.route.is_empty(), "{}: has no route", s.code);
            assert!(s.average_processing_hours > 0, "{}: processing time", s.code);
            assert!(!s.result.ru.trim().is_empty(), "{}: has no result", s.code);
            // A text is in all three languages, or (where the seed gives none) in none.
            let texts = [&s.description, &s.result, &s.standard.term].into_iter().chain(&s.steps).chain(&s.reasons);
            for text in texts.chain(s.required_documents.iter().map(|d| &d.name)) {
                let empty = [&text.kk, &text.ru, &text.en].map(|t| t.trim().is_empty());
                assert!(empty.iter().all(|e| *e) || empty.iter().all(|e| !*e), "{}: {text:?}", s.code);
            }
            for step in &s.steps {
                assert!(!step.ru.trim().is_empty(), "{}: an empty step", s.code);
            }
            assert_eq!(
                s.document_languages.is_empty(),
                s.issues_document == DocumentKind::None,
                "{}: document languages only for an issued document",
                s.code
            );
        }
        let used: BTreeSet<_> = data
            .services
            .iter()
            .flat_map(|s| &s.route)
            .flat_map(|st| &st.approvers)
            .map(|a| a.department.clone())
            .collect();
        assert_eq!(used, departments, "every listed department is used by some route");
    }

    #[test]
    fn the_certificate_of_study_keeps_its_code_office_route_and_document() {
        let data = data();
        let c = data.services.iter().find(|s| s.code == "certificate-of-study").expect("certificate of study");
        assert_eq!(c.office, "registrar");
        assert_eq!(c.route.len(), 1);
        let approvers: Vec<_> =
            c.route[0].approvers.iter().map(|a| (a.department.as_str(), a.position.as_str())).collect();
        assert_eq!(approvers, [("deans-office", "dean"), ("registrar", "registrar")]);
        assert_eq!(c.issues_document, DocumentKind::CertificateOfStudy);
        assert_eq!(c.document_languages, [Language::Kk, Language::Ru, Language::En]);
        let issuing: Vec<_> =
            data.services.iter().filter(|s| s.issues_document != DocumentKind::None).map(|s| s.code.as_str()).collect();
        assert_eq!(
            issuing,
            [
                "academic-leave",
                "return-from-academic-leave",
                "certificate-of-study",
                "stipend-certificate",
                "clearance-sheet",
                "kaznmu-clearance-sheet"
            ],
            "the services whose result is a document"
        );
    }

    #[test]
    fn the_clearance_sheet_is_one_parallel_stage_of_every_department() {
        let data = data();
        let sheet = data.services.iter().find(|s| s.code == "kaznmu-clearance-sheet").expect("clearance sheet");
        assert_eq!(sheet.route.len(), 1, "one parallel stage");
        let departments: Vec<_> = sheet.route[0].approvers.iter().map(|a| a.department.as_str()).collect();
        assert!(departments.len() >= 10, "{departments:?}");
        for d in ["digital-services-centre", "dormitory-1", "dormitory-8", "library", "deans-office", "student-affairs"]
        {
            assert!(departments.contains(&d), "{d} signs the clearance sheet");
        }
    }

    /// Numbered departments of one stage (dormitory-1 … dormitory-8) are listed, and so printed and shown, in their
    /// numbers' order, in every service (seed 000's screen had 5 before 4).
    #[test]
    fn numbered_departments_of_a_stage_are_in_order() {
        for service in data().services {
            for stage in &service.route {
                let mut numbered: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
                for approver in &stage.approvers {
                    if let Some((stem, number)) = approver.department.rsplit_once('-')
                        && let Ok(number) = number.parse::<u32>()
                    {
                        numbered.entry(stem).or_default().push(number);
                    }
                }
                for (stem, numbers) in numbered {
                    assert!(numbers.is_sorted(), "{}: {stem}-N out of order: {numbers:?}", service.code);
                }
            }
        }
    }

    #[test]
    fn sequential_e_services_end_with_the_vice_rector() {
        let data = data();
        let transfer = data.services.iter().find(|s| s.code == "transfer-to-another-university").expect("transfer");
        let stages: Vec<_> = transfer.route.iter().map(|st| st.approvers.len()).collect();
        assert!(stages.len() >= 3 && stages.iter().all(|n| *n == 1), "one approver a stage: {stages:?}");
        let last = &transfer.route.last().expect("stage").approvers[0];
        assert_eq!((last.department.as_str(), last.position.as_str()), ("rectorate", "vice-rector-academic"));
        // Seed 001: the vice-rector's final approval is a digital signature, so it is a signatory stage, and only
        // ever the last one.
        for service in &data.services {
            for (i, stage) in service.route.iter().enumerate() {
                let vice_rector = stage.approvers.iter().any(|a| a.position == "vice-rector-academic");
                assert_eq!(stage.signatory, vice_rector, "{}: stage {}", service.code, i + 1);
                assert!(!stage.signatory || i + 1 == service.route.len(), "{}: the signatory is last", service.code);
            }
        }
    }

    #[test]
    fn the_duplicate_diploma_costs_7500_tenge() {
        let data = data();
        let duplicate = data.services.iter().find(|s| s.code == "duplicate-diploma").expect("duplicate diploma");
        assert_eq!(duplicate.fee, Fee::Paid { amount_kzt: 7500 });
        assert_eq!(duplicate.office, "student-office");
    }
}
