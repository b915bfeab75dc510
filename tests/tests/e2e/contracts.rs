//! The event contract, checked from both ends: every payload type of `onewindow_contracts` is generated at random
//! (every variant, `Option`s both `None` and `Some`, empty and long lists, any text), encoded as its producer
//! encodes it, carried as the relay publishes it (the JSON envelope), and read back by every consumer that
//! subscribes to its type, through the consumers' own reading path (`onewindow_bus::read`, with the upcasters).
//! The consumers' subscriptions are their services' own `CONSUMES` lists, so a consumer added later is covered.

use std::{collections::BTreeSet, fmt::Debug};

use arbitrary::{Arbitrary, Unstructured};
use onewindow_bus::{Envelope, read};
use onewindow_contracts::{applications, catalog, documents, sheet};
use onewindow_eventlog::{EventMetadata, EventSchema, OrgId, Position, RecordedEvent, StreamRef, encode};
use rand::RngCore;
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// Random values generated per payload type.
const CASES: usize = 400;

/// Every consumer of the system, by name, with the event types it reads.
fn consumers() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut consumers: Vec<(&'static str, Vec<&'static str>)> =
        [onewindow_applications::CONSUMES, onewindow_routing::CONSUMES, onewindow_documents::CONSUMES]
            .concat()
            .into_iter()
            .map(|(name, types)| (name, types.to_vec()))
            .collect();
    consumers.extend(onewindow_notifications::consumes());
    consumers.push(("notifications-public", onewindow_notifications::public::status_types()));
    consumers
}

/// `CASES` random values of `E`, each from its own random bytes (of random length, so lists are empty to long).
/// The seed is printed (a failing test shows it) and taken from `ONEWINDOW_CONTRACT_SEED` to replay a failure.
fn generated<E: for<'a> Arbitrary<'a>>() -> Vec<E> {
    use rand::SeedableRng;
    let seed =
        std::env::var("ONEWINDOW_CONTRACT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    println!("contract values of {} from ONEWINDOW_CONTRACT_SEED={seed}", std::any::type_name::<E>());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..CASES)
        .filter_map(|case| {
            let mut bytes = vec![0u8; 64 + (case * 37) % 8192];
            rng.fill_bytes(&mut bytes);
            E::arbitrary(&mut Unstructured::new(&bytes)).ok()
        })
        .collect()
}

/// `event` as a consumer receives it in the distributed mode: encoded by its producer, stored, published in the
/// relay's JSON envelope and parsed back.
fn over_the_wire<E: Serialize + EventSchema>(event: &E, stream_type: &str) -> RecordedEvent {
    let metadata = EventMetadata {
        occurred_at: chrono::Utc::now(),
        actor: "service:test".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    };
    let new = encode(event, &metadata).expect("the producer encodes every value of its type");
    let stream = StreamRef::new(&OrgId::parse("kaznu").expect("org"), stream_type, Uuid::now_v7().to_string());
    let stored = RecordedEvent::from_new(new, stream, 1, Position::START);
    let published = serde_json::to_vec(&Envelope::from_recorded(&stored)).expect("the envelope serialises");
    let received: Envelope = serde_json::from_slice(&published).expect("the envelope parses");
    received.into_recorded(None)
}

/// Generates values of `E`, and has every consumer subscribed to a value's type read it back unchanged. Returns
/// the event types seen, so the caller can check every variant came up.
fn every_consumer_reads<E>(stream_type: &str) -> BTreeSet<String>
where
    E: for<'a> Arbitrary<'a> + Serialize + DeserializeOwned + EventSchema + PartialEq + Debug,
{
    let consumers = consumers();
    let mut seen = BTreeSet::new();
    for value in generated::<E>() {
        let received = over_the_wire(&value, stream_type);
        let readers: Vec<_> =
            consumers.iter().filter(|(_, types)| types.contains(&received.event_type.as_str())).collect();
        for (consumer, _) in readers {
            let read_back: E = read(&received).unwrap_or_else(|error| {
                panic!("{consumer} cannot read {}: {error:?}\n{:#}", received.event_type, received.payload)
            });
            assert_eq!(read_back, value, "{consumer} reads {} differently", received.event_type);
        }
        seen.insert(received.event_type);
    }
    seen
}

fn names(types: &[&str]) -> BTreeSet<String> {
    types.iter().map(|t| t.to_string()).collect()
}

#[test]
fn every_consumer_reads_every_application_event_as_written() {
    let seen = every_consumer_reads::<applications::ApplicationEvent>("application");
    assert_eq!(seen, names(&applications::EVENT_TYPES), "every variant generated");
}

#[test]
fn every_consumer_reads_every_sheet_event_as_written() {
    let seen = every_consumer_reads::<sheet::SheetEvent>("sheet");
    assert_eq!(seen, names(&sheet::EVENT_TYPES), "every variant generated");
}

#[test]
fn every_consumer_reads_every_document_event_as_written() {
    let seen = every_consumer_reads::<documents::DocumentEvent>("document");
    assert_eq!(seen, names(&documents::EVENT_TYPES));
    let seen = every_consumer_reads::<documents::VerificationEvent>("verification");
    assert_eq!(seen, names(&documents::VERIFICATION_EVENT_TYPES));
}

#[test]
fn every_consumer_reads_every_catalog_event_as_written() {
    assert_eq!(every_consumer_reads::<catalog::CatalogEvent>("service"), names(&[catalog::SERVICE_DEFINED]));
    assert_eq!(every_consumer_reads::<catalog::SectionEvent>("section"), names(&[catalog::SECTION_DEFINED]));
    assert_eq!(every_consumer_reads::<catalog::DepartmentEvent>("department"), names(&[catalog::DEPARTMENT_DEFINED]));
    assert_eq!(every_consumer_reads::<catalog::CalendarEvent>("calendar"), names(&[catalog::CALENDAR_ADJUSTED]));
}

/// Every type a consumer subscribes to is a type of the contract: a typo in a subscription, or a consumer of an
/// event nobody writes, would wait forever.
#[test]
fn every_subscribed_type_is_in_the_contract() {
    let contract: BTreeSet<String> = [
        &applications::EVENT_TYPES[..],
        &sheet::EVENT_TYPES,
        &documents::EVENT_TYPES,
        &documents::VERIFICATION_EVENT_TYPES,
        // Written by onewindow-bus for whichever service's consumer parks an event.
        &onewindow_bus::parked::EVENT_TYPES,
        &[catalog::SERVICE_DEFINED, catalog::SECTION_DEFINED, catalog::DEPARTMENT_DEFINED, catalog::CALENDAR_ADJUSTED],
    ]
    .concat()
    .iter()
    .map(|t| t.to_string())
    .collect();
    for (consumer, types) in consumers() {
        for event_type in types {
            assert!(contract.contains(event_type), "{consumer} subscribes to {event_type}, which nobody writes");
        }
    }
}

/// A sheet stored by the first version (`document_language: ""` for a service that issues no document) reads as
/// the current one (`None`) through the upcaster, and a sheet stored with a language keeps it.
#[test]
fn sheets_stored_by_version_one_read_through_the_upcaster() {
    let summary = serde_json::json!({
        "application_id": Uuid::now_v7(), "number": "KAZNU-2026-000001", "applicant_id": Uuid::now_v7(),
        "applicant_name": "Aruzhan", "service_code": "debt-liquidation", "service_name": "Ликвидация задолженности",
        "issues_document": "",
    });
    for (language, expected) in [("", None), ("kk", Some(onewindow_contracts::Language::Kk))] {
        let mut payload = summary.clone();
        payload["document_language"] = language.into();
        payload["approvals"] = serde_json::json!([]);
        let mut stored = over_the_wire(
            &sheet::SheetEvent::Closed(sheet::SheetClosed { application_id: Uuid::now_v7(), reason: String::new() }),
            "sheet",
        );
        (stored.event_type, stored.schema_version, stored.payload) = (sheet::APPROVED.into(), 1, payload);
        let sheet::SheetEvent::Approved(approved) = read::<sheet::SheetEvent>(&stored).expect("upcast") else {
            panic!("not an approval")
        };
        assert_eq!(approved.application.document_language, expected);
        assert_eq!(sheet::SheetEvent::schema_version(sheet::APPROVED), sheet::SUMMARY_LANGUAGE_OPTIONAL);
    }
    // Written by newer code than this: refused by name, never misread.
    let mut newer = over_the_wire(
        &sheet::SheetEvent::Closed(sheet::SheetClosed { application_id: Uuid::now_v7(), reason: String::new() }),
        "sheet",
    );
    newer.schema_version = 9;
    let error = read::<sheet::SheetEvent>(&newer).expect_err("a version from the future");
    assert!(format!("{error:#}").contains("newer code"), "{error:#}");
}

/// The top-level fields each event type's payload is written with, over many generated values (fields skipped
/// when empty show up in some of them).
fn written_fields() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    fn collect<E>(stream_type: &str, into: &mut std::collections::BTreeMap<String, BTreeSet<String>>)
    where
        E: for<'a> Arbitrary<'a> + Serialize + EventSchema,
    {
        for value in generated::<E>() {
            let received = over_the_wire(&value, stream_type);
            let fields = into.entry(received.event_type).or_default();
            fields.extend(received.payload.as_object().into_iter().flat_map(|o| o.keys().cloned()));
        }
    }
    let mut fields = std::collections::BTreeMap::new();
    collect::<applications::ApplicationEvent>("application", &mut fields);
    collect::<sheet::SheetEvent>("sheet", &mut fields);
    collect::<documents::DocumentEvent>("document", &mut fields);
    collect::<documents::VerificationEvent>("verification", &mut fields);
    collect::<catalog::CatalogEvent>("service", &mut fields);
    collect::<catalog::SectionEvent>("section", &mut fields);
    collect::<catalog::DepartmentEvent>("department", &mut fields);
    collect::<catalog::CalendarEvent>("calendar", &mut fields);
    fields
}

/// The identifiers of a field list as docs/EVENTS.md writes it (`a, b?, c: {x, y}, d (why)`), top level only.
fn listed_fields(list: &str) -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    let (mut depth, mut token) = (0, String::new());
    for c in list.chars().chain([',']) {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                let name: String = token
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    fields.insert(name);
                }
                token.clear();
                continue;
            }
            _ => {}
        }
        if depth == 0 {
            token.push(c);
        }
    }
    fields
}

/// docs/EVENTS.md lists every field each payload is written with, and no field it is not: its row's first field
/// list names only written fields, and every written field is named in the row.
#[test]
fn events_md_lists_the_fields_of_every_payload() {
    const EVENTS_MD: &str = include_str!("../../../docs/EVENTS.md");
    let written = written_fields();
    let mut wrong = Vec::new();
    for (event_type, fields) in &written {
        let marker = format!("| `{event_type}` | ");
        let Some(row) = EVENTS_MD.lines().find(|line| line.starts_with(&marker)) else {
            wrong.push(format!("no row for {event_type} (written with {fields:?})"));
            continue;
        };
        let cell = &row[marker.len()..];
        let first_list = cell.split('`').nth(1).unwrap_or_default();
        let listed = listed_fields(first_list);
        let unknown: Vec<_> = listed.difference(fields).collect();
        if !unknown.is_empty() {
            wrong.push(format!("lists {unknown:?} for {event_type}, which it is not written with"));
        }
        let words: BTreeSet<String> = cell
            .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .map(str::to_owned)
            .collect();
        let missing: Vec<_> = fields.iter().filter(|f| !words.contains(*f)).collect();
        if !missing.is_empty() {
            wrong.push(format!("does not name {missing:?} of {event_type}"));
        }
    }
    assert!(wrong.is_empty(), "docs/EVENTS.md:\n{}", wrong.join("\n"));
}

/// Each payload message of `proto/onewindow/events/v1/events.proto` (annotated `// type "<event type>"`) has
/// exactly the fields its event is written with.
#[test]
fn events_proto_describes_every_field_of_the_payloads_it_names() {
    const EVENTS_PROTO: &str = include_str!("../../../proto/onewindow/events/v1/events.proto");
    let written = written_fields();
    let mut lines = EVENTS_PROTO.lines().peekable();
    let (mut checked, mut wrong) = (0, Vec::new());
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("// type \"") else { continue };
        let event_type = rest.split('"').next().unwrap_or_default().to_owned();
        let Some(fields) = written.get(&event_type) else { continue };
        let mut message = BTreeSet::new();
        for line in lines.by_ref().skip_while(|l| !l.starts_with("message ")).skip(1) {
            let line = line.trim();
            if line == "}" {
                break;
            }
            if line.starts_with("//") || !line.contains('=') {
                continue;
            }
            let declaration = line.split('=').next().unwrap_or_default();
            if let Some(name) = declaration.split_whitespace().last() {
                message.insert(name.to_owned());
            }
        }
        if &message != fields {
            let missing: Vec<_> = fields.difference(&message).collect();
            let extra: Vec<_> = message.difference(fields).collect();
            wrong.push(format!("{event_type}: missing {missing:?}, not written {extra:?}"));
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "events.proto:\n{}", wrong.join("\n"));
    assert!(checked >= 10, "only {checked} payload messages found");
}

/// The public CloudEvents integrators read, for random application events of every type, match
/// `docs/asyncapi.yaml`, and every status the mapping names comes up.
#[test]
fn every_public_event_matches_the_asyncapi_document() {
    use onewindow_notifications::public;
    let validator = crate::notifications_public::asyncapi_validator();
    let mut statuses = BTreeSet::new();
    for value in generated::<applications::ApplicationEvent>() {
        let received = over_the_wire(&value, "application");
        let Some(cloud_event) = public::status_changed(&received).expect("the mapping reads what it subscribes to")
        else {
            continue;
        };
        let json = serde_json::to_value(&cloud_event).expect("serialises");
        let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{json:#} does not match docs/asyncapi.yaml: {errors:?}");
        statuses.insert(json["data"]["status"].as_str().expect("a status").to_owned());
    }
    let every: BTreeSet<String> = public::STATUS_OF
        .iter()
        .map(|(_, status)| serde_json::to_value(status).expect("a status").as_str().expect("text").to_owned())
        .collect();
    assert_eq!(statuses, every, "every public status was generated and published");
}
