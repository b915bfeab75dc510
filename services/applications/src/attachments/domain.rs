//! The attachments of one application as an aggregate: its own stream (`attachment/<application_id>`), decided
//! and folded without I/O.
//!
//! Each application's files are kept apart from the application's own stream, so uploading a scan never races
//! with the application's life cycle events, and the life cycle reads the files with one more load. The facts the
//! decision needs from the application (its status and the required documents of its service) come in with the
//! command.

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{RequiredDocument, Status};

/// The stream type: one stream per application, keyed by the application id.
pub const ATTACHMENT: &str = "attachment";

/// One stored file, as its events describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub attachment_id: Uuid,
    pub application_id: Uuid,
    /// The index into the application's `service.required_documents`.
    pub required_document: u32,
    /// The sanitised name the applicant gave: a label, never used to decide anything.
    pub file_name: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size_bytes: u64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    pub blob_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum AttachmentEvent {
    #[serde(rename = "attachment.uploaded")]
    Uploaded(Uploaded),
    /// `attachment` takes the place (and the required document) of `replaced_attachment_id`.
    #[serde(rename = "attachment.replaced")]
    Replaced { replaced_attachment_id: Uuid, replaced_blob_key: String, attachment: Uploaded },
    #[serde(rename = "attachment.deleted")]
    Deleted { attachment_id: Uuid, application_id: Uuid, blob_key: String },
    /// The application was submitted: its files are frozen. Committed with the submission (see [`super::seal`]),
    /// so an upload decided before it loses the race with ABORTED instead of slipping in after it.
    #[serde(rename = "attachment.sealed")]
    Sealed { application_id: Uuid },
}

impl onewindow_eventlog::EventSchema for AttachmentEvent {}

/// One file attached to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file: Uploaded,
    pub uploaded_at: DateTime<Utc>,
}

/// Every file of one application, in the order they were attached (a replacement keeps its predecessor's place).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachments {
    pub files: Vec<Attachment>,
    /// Set once the application was submitted: nothing changes any more.
    pub sealed: bool,
}

impl Attachments {
    /// How many files are attached for required document `index`.
    pub fn count(&self, required_document: u32) -> usize {
        self.files.iter().filter(|a| a.file.required_document == required_document).count()
    }

    pub fn get(&self, attachment_id: Uuid) -> Option<&Attachment> {
        self.files.iter().find(|a| a.file.attachment_id == attachment_id)
    }

    /// The indexes of the required documents (`required: true`) that have no file yet: what a submission lacks.
    pub fn missing_required(&self, required_documents: &[RequiredDocument]) -> Vec<u32> {
        (0u32..)
            .zip(required_documents)
            .filter(|(index, slot)| slot.required && self.count(*index) == 0)
            .map(|(index, _)| index)
            .collect()
    }

    /// The blob keys of every file, for removing them.
    pub fn blob_keys(&self) -> Vec<String> {
        self.files.iter().map(|a| a.file.blob_key.clone()).collect()
    }
}

impl Aggregate for Attachments {
    type Event = AttachmentEvent;

    fn apply(&mut self, event: &AttachmentEvent, recorded: &RecordedEvent) {
        let at = recorded.metadata.occurred_at;
        match event {
            AttachmentEvent::Uploaded(file) => {
                self.files.push(Attachment { file: file.clone(), uploaded_at: at });
            }
            AttachmentEvent::Replaced { replaced_attachment_id, attachment, .. } => {
                let replacement = Attachment { file: attachment.clone(), uploaded_at: at };
                match self.files.iter_mut().find(|a| a.file.attachment_id == *replaced_attachment_id) {
                    Some(place) => *place = replacement,
                    None => self.files.push(replacement),
                }
            }
            AttachmentEvent::Deleted { attachment_id, .. } => {
                self.files.retain(|a| a.file.attachment_id != *attachment_id);
            }
            AttachmentEvent::Sealed { .. } => self.sealed = true,
        }
    }
}

/// What the decision needs to know about the application the files belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft<'a> {
    pub application_id: Uuid,
    pub status: Status,
    pub required_documents: &'a [RequiredDocument],
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttachmentCommand {
    /// Attach `file`; with `replaces`, in place of that attachment.
    Upload {
        file: Uploaded,
        replaces: Option<Uuid>,
    },
    Delete {
        attachment_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("attachments change only while the application is a draft (SAVED); it is {0}")]
    NotADraft(Status),
    #[error("the application was submitted: its attachments are final")]
    Sealed,
    #[error("the service has {count} required documents: there is no document {index}")]
    NoSuchRequiredDocument { index: u32, count: usize },
    #[error("required document {index} takes at most {max_files} files; delete or replace one first")]
    TooManyFiles { index: u32, max_files: u32 },
    #[error("the replaced attachment belongs to required document {actual}, not {requested}")]
    ReplacedElsewhere { requested: u32, actual: u32 },
    #[error("no attachment {0} on this application")]
    NotFound(Uuid),
}

/// Decides a change of the files of a draft.
pub fn decide(
    state: &Attachments,
    draft: &Draft<'_>,
    command: AttachmentCommand,
) -> Result<Vec<AttachmentEvent>, AttachmentError> {
    if state.sealed {
        return Err(AttachmentError::Sealed);
    }
    if draft.status != Status::Saved {
        return Err(AttachmentError::NotADraft(draft.status));
    }
    match command {
        AttachmentCommand::Upload { file, replaces } => {
            let index = file.required_document;
            let Some(slot) = usize::try_from(index).ok().and_then(|i| draft.required_documents.get(i)) else {
                return Err(AttachmentError::NoSuchRequiredDocument { index, count: draft.required_documents.len() });
            };
            let file = Uploaded { application_id: draft.application_id, ..file };
            match replaces {
                Some(replaced_id) => {
                    let replaced = state.get(replaced_id).ok_or(AttachmentError::NotFound(replaced_id))?;
                    if replaced.file.required_document != index {
                        return Err(AttachmentError::ReplacedElsewhere {
                            requested: index,
                            actual: replaced.file.required_document,
                        });
                    }
                    Ok(vec![AttachmentEvent::Replaced {
                        replaced_attachment_id: replaced_id,
                        replaced_blob_key: replaced.file.blob_key.clone(),
                        attachment: file,
                    }])
                }
                None if state.count(index) >= slot.max_files as usize => {
                    Err(AttachmentError::TooManyFiles { index, max_files: slot.max_files })
                }
                None => Ok(vec![AttachmentEvent::Uploaded(file)]),
            }
        }
        AttachmentCommand::Delete { attachment_id } => {
            let attachment = state.get(attachment_id).ok_or(AttachmentError::NotFound(attachment_id))?;
            Ok(vec![AttachmentEvent::Deleted {
                attachment_id,
                application_id: draft.application_id,
                blob_key: attachment.file.blob_key.clone(),
            }])
        }
    }
}

/// Removes every file, whatever the application's status (the caller decides when: deleting a draft).
pub fn delete_all(state: &Attachments, application_id: Uuid) -> Vec<AttachmentEvent> {
    state
        .files
        .iter()
        .map(|a| AttachmentEvent::Deleted {
            attachment_id: a.file.attachment_id,
            application_id,
            blob_key: a.file.blob_key.clone(),
        })
        .collect()
}

/// Freezes the files when the application is submitted; sealing twice is no change.
pub fn seal(state: &Attachments, application_id: Uuid) -> Vec<AttachmentEvent> {
    if state.sealed { Vec::new() } else { vec![AttachmentEvent::Sealed { application_id }] }
}

/// Where a file's bytes are kept: `<org>/attachments/<application_id>/<attachment_id>`.
pub fn blob_key(org: &str, application_id: Uuid, attachment_id: Uuid) -> String {
    format!("{org}/attachments/{application_id}/{attachment_id}")
}

#[cfg(test)]
mod tests {
    use onewindow_eventlog::{EventMetadata, OrgId, Position, StreamRef, encode, fold};

    use super::*;
    use crate::domain::ServiceNames;

    fn slots() -> Vec<RequiredDocument> {
        vec![
            RequiredDocument { name: ServiceNames::default(), max_files: 2, required: true },
            RequiredDocument { name: ServiceNames::default(), max_files: 1, required: false },
        ]
    }

    fn file(application_id: Uuid, required_document: u32) -> Uploaded {
        let attachment_id = Uuid::now_v7();
        Uploaded {
            attachment_id,
            application_id,
            required_document,
            file_name: "scan.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 1234,
            sha256: "ab".repeat(32),
            blob_key: blob_key("kaznu", application_id, attachment_id),
        }
    }

    /// The state after `events`, folded as the store would.
    fn given(events: &[AttachmentEvent]) -> Attachments {
        let org = OrgId::parse("kaznu").expect("org");
        let metadata = EventMetadata {
            occurred_at: Utc::now(),
            actor: "test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        };
        let recorded = events
            .iter()
            .zip(1..)
            .map(|(event, version)| {
                let new = encode(event, &metadata).expect("encode");
                RecordedEvent {
                    position: Position { commit: 0, sequence: version },
                    id: new.id,
                    stream: StreamRef::new(&org, ATTACHMENT, "x"),
                    version,
                    event_type: new.event_type,
                    schema_version: 1,
                    payload: new.payload,
                    metadata: new.metadata,
                }
            })
            .collect();
        fold::<Attachments>(recorded).expect("fold").state
    }

    fn draft(slots: &[RequiredDocument], application_id: Uuid) -> Draft<'_> {
        Draft { application_id, status: Status::Saved, required_documents: slots }
    }

    #[test]
    fn event_types_are_the_documented_ones() {
        let app = Uuid::now_v7();
        let metadata = EventMetadata {
            occurred_at: Utc::now(),
            actor: "t".into(),
            correlation_id: app,
            causation_id: app,
            trace_context: None,
        };
        let f = file(app, 0);
        let types: Vec<_> = [
            AttachmentEvent::Uploaded(f.clone()),
            AttachmentEvent::Replaced {
                replaced_attachment_id: f.attachment_id,
                replaced_blob_key: f.blob_key.clone(),
                attachment: f.clone(),
            },
            AttachmentEvent::Deleted { attachment_id: f.attachment_id, application_id: app, blob_key: f.blob_key },
            AttachmentEvent::Sealed { application_id: app },
        ]
        .iter()
        .map(|e| encode(e, &metadata).expect("encode").event_type)
        .collect();
        assert_eq!(types, ["attachment.uploaded", "attachment.replaced", "attachment.deleted", "attachment.sealed"]);
    }

    #[test]
    fn files_are_attached_per_required_document_up_to_its_limit() {
        let slots = slots();
        let app = Uuid::now_v7();
        let first = file(app, 0);
        let second = file(app, 0);
        let state = given(&[AttachmentEvent::Uploaded(first.clone()), AttachmentEvent::Uploaded(second.clone())]);
        assert_eq!((state.count(0), state.count(1)), (2, 0));

        let third = file(app, 0);
        let refused = decide(&state, &draft(&slots, app), AttachmentCommand::Upload { file: third, replaces: None });
        assert_eq!(refused, Err(AttachmentError::TooManyFiles { index: 0, max_files: 2 }));

        let other = file(app, 1);
        let events =
            decide(&state, &draft(&slots, app), AttachmentCommand::Upload { file: other.clone(), replaces: None })
                .expect("the other document has room");
        assert_eq!(events, [AttachmentEvent::Uploaded(other)]);

        let beyond = file(app, 2);
        assert_eq!(
            decide(&state, &draft(&slots, app), AttachmentCommand::Upload { file: beyond, replaces: None }),
            Err(AttachmentError::NoSuchRequiredDocument { index: 2, count: 2 })
        );
    }

    #[test]
    fn the_application_id_comes_from_the_draft_not_the_file() {
        let slots = slots();
        let app = Uuid::now_v7();
        let foreign = file(Uuid::now_v7(), 0);
        let events = decide(
            &Attachments::default(),
            &draft(&slots, app),
            AttachmentCommand::Upload { file: foreign, replaces: None },
        )
        .expect("uploaded");
        let [AttachmentEvent::Uploaded(stored)] = events.as_slice() else { panic!("{events:?}") };
        assert_eq!(stored.application_id, app);
    }

    #[test]
    fn a_replacement_takes_the_place_of_the_replaced_file_even_in_a_full_slot() {
        let slots = slots();
        let app = Uuid::now_v7();
        let (first, second) = (file(app, 0), file(app, 0));
        let state = given(&[AttachmentEvent::Uploaded(first.clone()), AttachmentEvent::Uploaded(second.clone())]);
        let new = file(app, 0);
        let command = AttachmentCommand::Upload { file: new.clone(), replaces: Some(first.attachment_id) };
        let events = decide(&state, &draft(&slots, app), command).expect("replaced");
        assert_eq!(
            events,
            [AttachmentEvent::Replaced {
                replaced_attachment_id: first.attachment_id,
                replaced_blob_key: first.blob_key.clone(),
                attachment: new.clone(),
            }]
        );
        let after = given(&[
            AttachmentEvent::Uploaded(first.clone()),
            AttachmentEvent::Uploaded(second.clone()),
            events[0].clone(),
        ]);
        let ids: Vec<_> = after.files.iter().map(|a| a.file.attachment_id).collect();
        assert_eq!(ids, [new.attachment_id, second.attachment_id], "the replacement keeps the first place");

        let elsewhere = AttachmentCommand::Upload { file: file(app, 1), replaces: Some(second.attachment_id) };
        assert_eq!(
            decide(&state, &draft(&slots, app), elsewhere),
            Err(AttachmentError::ReplacedElsewhere { requested: 1, actual: 0 })
        );
        let unknown = Uuid::now_v7();
        let missing = AttachmentCommand::Upload { file: file(app, 0), replaces: Some(unknown) };
        assert_eq!(decide(&state, &draft(&slots, app), missing), Err(AttachmentError::NotFound(unknown)));
    }

    #[test]
    fn deleting_names_the_blob_and_frees_the_slot() {
        let slots = slots();
        let app = Uuid::now_v7();
        let first = file(app, 0);
        let uploaded = AttachmentEvent::Uploaded(first.clone());
        let state = given(std::slice::from_ref(&uploaded));
        let events =
            decide(&state, &draft(&slots, app), AttachmentCommand::Delete { attachment_id: first.attachment_id })
                .expect("deleted");
        assert_eq!(
            events,
            [AttachmentEvent::Deleted {
                attachment_id: first.attachment_id,
                application_id: app,
                blob_key: first.blob_key
            }]
        );
        let after = given(&[uploaded, events[0].clone()]);
        assert_eq!(after.count(0), 0);
        assert_eq!(after.missing_required(&slots), [0], "the required document lacks a file again");
        let again =
            decide(&after, &draft(&slots, app), AttachmentCommand::Delete { attachment_id: first.attachment_id });
        assert_eq!(again, Err(AttachmentError::NotFound(first.attachment_id)));
    }

    #[test]
    fn only_a_draft_changes_and_a_sealed_one_never() {
        let slots = slots();
        let app = Uuid::now_v7();
        for status in [Status::Submitted, Status::InWork, Status::Completed, Status::Issued, Status::Refused] {
            let draft = Draft { application_id: app, status, required_documents: &slots };
            let upload = AttachmentCommand::Upload { file: file(app, 0), replaces: None };
            assert_eq!(decide(&Attachments::default(), &draft, upload), Err(AttachmentError::NotADraft(status)));
        }
        let first = file(app, 0);
        let sealed =
            given(&[AttachmentEvent::Uploaded(first.clone()), AttachmentEvent::Sealed { application_id: app }]);
        assert!(sealed.sealed);
        let delete = AttachmentCommand::Delete { attachment_id: first.attachment_id };
        assert_eq!(decide(&sealed, &draft(&slots, app), delete), Err(AttachmentError::Sealed));
        assert_eq!(seal(&sealed, app), [], "sealing twice is no change");
        assert_eq!(seal(&Attachments::default(), app), [AttachmentEvent::Sealed { application_id: app }]);
    }

    #[test]
    fn deleting_all_removes_every_file() {
        let app = Uuid::now_v7();
        let files = [file(app, 0), file(app, 0), file(app, 1)];
        let uploaded: Vec<_> = files.iter().cloned().map(AttachmentEvent::Uploaded).collect();
        let state = given(&uploaded);
        assert_eq!(state.blob_keys().len(), 3);
        let deletions = delete_all(&state, app);
        assert_eq!(deletions.len(), 3);
        let after = given(&[uploaded, deletions].concat());
        assert!(after.files.is_empty());
        assert!(delete_all(&after, app).is_empty(), "nothing left, nothing to record");
    }
}
