//! Requests to queries and rows to answers: page sizes, opaque page tokens, statuses, list rows as protobuf.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;
use onewindow_proto::{applications::v1 as pb, timestamp};
use onewindow_server::FieldErrors;
use uuid::Uuid;

use super::sql::{After, ListRow, OPEN_STATUSES};

pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

/// 0 means the default; otherwise 1 to 100.
pub fn page_size(errors: &mut FieldErrors, requested: i32) -> i64 {
    match i64::from(requested) {
        0 => DEFAULT_PAGE_SIZE,
        n if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        _ => {
            errors.add("page_size", format!("must be between 1 and {MAX_PAGE_SIZE} (0 for {DEFAULT_PAGE_SIZE})"));
            DEFAULT_PAGE_SIZE
        }
    }
}

/// The token names the last row of a page by its sort key and id; clients only hand it back.
pub fn encode_token(after: After) -> String {
    URL_SAFE_NO_PAD.encode(format!("1:{}:{}", after.key_us, after.id.simple()))
}

pub fn decode_token(errors: &mut FieldErrors, token: &str) -> Option<After> {
    if token.is_empty() {
        return None;
    }
    let decoded = URL_SAFE_NO_PAD.decode(token.trim()).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    let after = decoded.as_deref().and_then(|text| {
        let mut parts = text.split(':');
        let (Some("1"), Some(key), Some(id), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        Some(After { key_us: key.parse().ok()?, id: Uuid::parse_str(id).ok()? })
    });
    if after.is_none() {
        errors.add("page_token", "is not a token this service gave out");
    }
    after
}

/// The rows of a page (fetched one more than the page size) and the token of the next page, if there is one.
pub fn paginate(mut rows: Vec<ListRow>, size: i64, key: impl Fn(&ListRow) -> i64) -> (Vec<ListRow>, String) {
    let size = usize::try_from(size).unwrap_or(0);
    if rows.len() <= size {
        return (rows, String::new());
    }
    rows.truncate(size);
    let token = rows.last().map(|row| encode_token(After { key_us: key(row), id: row.id })).unwrap_or_default();
    (rows, token)
}

/// The stored status of a protobuf status; `None` for UNSPECIFIED or an unknown value.
pub fn status_code(value: i32) -> Option<&'static str> {
    use pb::ApplicationStatus as S;
    match S::try_from(value).ok()? {
        S::Unspecified => None,
        S::Saved => Some("saved"),
        S::Submitted => Some("submitted"),
        S::InWork => Some("in_work"),
        S::Completed => Some("completed"),
        S::Issued => Some("issued"),
        S::Refused => Some("refused"),
        S::Withdrawn => Some("withdrawn"),
    }
}

pub fn status_pb(code: &str) -> pb::ApplicationStatus {
    use pb::ApplicationStatus as S;
    match code {
        "saved" => S::Saved,
        "submitted" => S::Submitted,
        "in_work" => S::InWork,
        "completed" => S::Completed,
        "issued" => S::Issued,
        "refused" => S::Refused,
        "withdrawn" => S::Withdrawn,
        _ => S::Unspecified,
    }
}

/// Past its planned date and still open, at `now_us`.
pub fn overdue(row: &ListRow, now_us: i64) -> bool {
    row.planned_at_us.is_some_and(|planned| planned < now_us) && OPEN_STATUSES.contains(&row.status.as_str())
}

fn time(micros: i64) -> Option<prost_types::Timestamp> {
    DateTime::from_timestamp_micros(micros).map(timestamp)
}

pub fn summary_pb(row: &ListRow, now_us: i64) -> pb::ApplicationSummary {
    pb::ApplicationSummary {
        id: row.id.to_string(),
        number: row.number.clone(),
        applicant_id: row.applicant_id.to_string(),
        applicant_name: row.applicant_name.clone(),
        service_code: row.service_code.clone(),
        service_name_kk: row.service_name_kk.clone(),
        service_name_ru: row.service_name_ru.clone(),
        service_name_en: row.service_name_en.clone(),
        office: row.office.clone(),
        status: status_pb(&row.status) as i32,
        executor_id: row.executor_id.map(|id| id.to_string()).unwrap_or_default(),
        executor_name: row.executor_name.clone(),
        planned_at: row.planned_at_us.and_then(time),
        created_at: time(row.created_at_us),
        submitted_at: row.submitted_at_us.and_then(time),
        updated_at: time(row.updated_at_us),
        version: row.version,
        overdue: overdue(row, now_us),
        refusal_reason: row.refusal_reason.clone(),
        processing_delayed: row.delayed > 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: i64) -> ListRow {
        ListRow {
            id: Uuid::now_v7(),
            org_id: "kaznu".into(),
            number: format!("KAZNU-2026-{key:06}"),
            applicant_id: Uuid::nil(),
            applicant_name: String::new(),
            service_code: "certificate-of-study".into(),
            service_name_kk: String::new(),
            service_name_ru: String::new(),
            service_name_en: String::new(),
            office: "registrar".into(),
            status: "submitted".into(),
            executor_id: None,
            executor_name: String::new(),
            planned_at_us: Some(1_000),
            created_at_us: key,
            submitted_at_us: Some(key),
            updated_at_us: key,
            version: 2,
            refusal_reason: String::new(),
            delayed: 0,
        }
    }

    #[test]
    fn a_page_token_names_the_last_row_and_reads_back() {
        let rows: Vec<ListRow> = (1..=4).map(row).collect();
        let (page, token) = paginate(rows.clone(), 3, |r| r.created_at_us);
        assert_eq!(page.len(), 3);
        let mut errors = FieldErrors::new();
        assert_eq!(decode_token(&mut errors, &token), Some(After { key_us: 3, id: rows[2].id }));
        assert!(errors.is_empty());
        let (last, none) = paginate(rows[3..].to_vec(), 3, |r| r.created_at_us);
        assert_eq!((last.len(), none.as_str()), (1, ""), "the last page has no next token");
    }

    #[test]
    fn bad_paging_is_refused_by_field() {
        let mut errors = FieldErrors::new();
        assert_eq!(decode_token(&mut errors, "bm90IGEgdG9rZW4"), None);
        assert_eq!(page_size(&mut errors, 101), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(&mut errors, -1), DEFAULT_PAGE_SIZE);
        let status = errors.into_result().expect_err("invalid");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains("page_token") && status.message().contains("page_size"), "{status:?}");
        let mut fine = FieldErrors::new();
        assert_eq!((page_size(&mut fine, 0), page_size(&mut fine, 100)), (DEFAULT_PAGE_SIZE, 100));
        assert!(fine.is_empty());
    }

    #[test]
    fn overdue_means_past_the_planned_date_and_still_open() {
        let mut late = row(1);
        assert!(overdue(&late, 2_000));
        assert!(!overdue(&late, 500), "not yet");
        late.status = "issued".into();
        assert!(!overdue(&late, 2_000), "closed applications are never overdue");
        late.status = "completed".into();
        assert!(overdue(&late, 2_000), "completed still waits for the hand-over");
        late.planned_at_us = None;
        assert!(!overdue(&late, 2_000));
        for status in ["saved", "submitted", "in_work", "completed", "issued", "refused", "withdrawn"] {
            assert_eq!(status_code(status_pb(status) as i32), Some(status), "{status} reads back");
        }
    }
}
