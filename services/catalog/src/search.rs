//! Finding services by words in any of the three languages, pure.
//!
//! Text is folded before matching: lower case, and the Kazakh-specific letters to the Russian letters they are
//! commonly typed as (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ/ү→у, һ→х, і→и; ё→е), so "анықтама", "аныктама" and "АНЫҚТАМА"
//! find the same service. A query matches a service when every query word starts a word of the service's name,
//! description or result in some language; matches in the name rank first.

use crate::domain::{Localized, ServiceDefinition};

/// Folds one character for matching.
fn fold_char(c: char) -> char {
    match c {
        'ә' => 'а',
        'ғ' => 'г',
        'қ' => 'к',
        'ң' => 'н',
        'ө' => 'о',
        'ұ' | 'ү' => 'у',
        'һ' => 'х',
        'і' => 'и',
        'ё' => 'е',
        other => other,
    }
}

/// The folded words of a text.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(fold_char).collect())
        .collect()
}

fn all_words(texts: &[&Localized]) -> Vec<String> {
    texts.iter().flat_map(|t| [&t.kk, &t.ru, &t.en]).flat_map(|t| words(t)).collect()
}

fn covers(haystack: &[String], query: &[String]) -> bool {
    query.iter().all(|q| haystack.iter().any(|w| w.starts_with(q.as_str())))
}

/// The items whose service matches `query`, best first (name matches, then the rest), each in the given order.
pub fn search<'a, T>(items: &'a [T], service: impl Fn(&T) -> &ServiceDefinition, query: &str) -> Vec<&'a T> {
    let query = words(query);
    if query.is_empty() {
        return Vec::new();
    }
    let mut by_name = Vec::new();
    let mut by_text = Vec::new();
    for item in items {
        let s = service(item);
        if covers(&all_words(&[&s.name]), &query) {
            by_name.push(item);
        } else if covers(&all_words(&[&s.name, &s.description, &s.result]), &query) {
            by_text.push(item);
        }
    }
    by_name.extend(by_text);
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::demo_services;

    fn service(code: &str, kk: &str, ru: &str, en: &str) -> ServiceDefinition {
        ServiceDefinition {
            code: code.into(),
            name: Localized { kk: kk.into(), ru: ru.into(), en: en.into() },
            ..Default::default()
        }
    }

    #[test]
    fn a_service_is_found_by_a_kazakh_a_russian_and_an_english_word() {
        let services = demo_services();
        for query in ["анықтама", "справка", "certificate", "ОҚУ", "Справ", "STUDY"] {
            let found: Vec<_> = search(&services, |s| s, query).iter().map(|s| s.code.as_str()).collect();
            assert_eq!(found, ["certificate-of-study"], "query {query:?}");
        }
    }

    #[test]
    fn kazakh_letters_typed_as_russian_ones_still_match() {
        let services = demo_services();
        // Keyboards without Kazakh letters: қ → к, ы stays.
        assert_eq!(search(&services, |s| s, "аныктама").len(), 1);
        assert_eq!(search(&services, |s| s, "оку туралы").len(), 1);
    }

    #[test]
    fn every_word_must_match_and_names_rank_first() {
        let mut description_only = service("transcript", "Транскрипт", "Транскрипт", "Transcript");
        description_only.description.en = "An official certificate of your grades".into();
        let services = vec![description_only, demo_services().remove(0)];
        let found: Vec<_> = search(&services, |s| s, "certificate").iter().map(|s| s.code.as_str()).collect();
        assert_eq!(found, ["certificate-of-study", "transcript"]);
        assert!(search(&services, |s| s, "certificate diploma").is_empty());
        assert!(search(&services, |s| s, "  ").is_empty());
    }

    #[test]
    fn folding_is_what_the_doc_says() {
        assert_eq!(words("ӘҒҚҢӨҰҮҺІ ё-Ё"), ["агкноуухи", "е", "е"]);
    }
}
