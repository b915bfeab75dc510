//! The log today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`) folds into the same state with the
//! current code, in both backends: nothing already stored is lost.

use onewindow_testkit::stored_log::{assert_folds_as_before, folded, parked};

use crate::{delegation::DelegationEntry, sheet::Sheet};

#[tokio::test]
async fn the_log_main_wrote_on_2026_12_03_folds_into_the_same_state() {
    let compared = assert_folds_as_before(
        "routing",
        |stream_type, events| match stream_type {
            "sheet" => folded::<Sheet>(events),
            "delegation" => folded::<DelegationEntry>(events),
            "route_copy" | "calendar_copy" => crate::consumers::catalog_copy::stored_state(events),
            "submission" => crate::consumers::applications::stored_state_as_read_before(events),
            "parked" => parked(events),
            other => panic!("no aggregate known for {other}"),
        },
        |stream_type, before| if stream_type == "submission" { before.to_owned() } else { as_today(before) },
    )
    .await;
    assert!(compared > 0);
}

/// The text of a state stored before the contract, as the same state reads today: sheets' `document_language` is
/// an `Option<Language>` (v2), and the route copies hold the catalog's own `Stage` and `Approver`.
fn as_today(before: &str) -> String {
    let mut out = String::new();
    for line in before.split_inclusive('\n') {
        let indent = &line[..line.len() - line.trim_start().len()];
        let trimmed = line.trim();
        if let Some(value) = trimmed.strip_prefix("document_language: \"").and_then(|v| v.strip_suffix("\",")) {
            match value {
                "" => out.push_str(&format!("{indent}document_language: None,\n")),
                code => {
                    let language = format!("{}{}", code[..1].to_uppercase(), &code[1..]);
                    out.push_str(&format!("{indent}document_language: Some(\n{indent}    {language},\n{indent}),\n"));
                }
            }
            continue;
        }
        out.push_str(&line.replace("CopiedStage {", "Stage {").replace("CopiedApprover {", "Approver {"));
    }
    out
}
