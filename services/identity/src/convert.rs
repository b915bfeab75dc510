//! Between the API's messages and the domain: accounts, cards, roles and preferences.

use chrono::NaiveDate;
use onewindow_auth::Role;
use onewindow_eventlog::OrgId;
use onewindow_proto::identity::v1 as pb;
use uuid::Uuid;

use crate::{
    account::Account,
    card::{Card, CardForm, DocumentKind},
    contact::{Channel, NotificationPreference},
};

pub fn account_pb(org: &OrgId, account: &Account) -> Option<pb::Account> {
    let details = account.details.as_ref()?;
    let status = if account.is_active() { pb::AccountStatus::Active } else { pb::AccountStatus::AwaitingActivation };
    Some(pb::Account {
        id: details.user_id.to_string(),
        organization_id: org.to_string(),
        login: details.login.clone(),
        full_name: details.full_name.clone(),
        roles: details.roles.iter().map(|role| role_pb(*role) as i32).collect(),
        department: details.department.clone(),
        position: details.position.clone(),
        email: details.profile.email.clone(),
        phone: details.profile.phone.clone(),
        language: details.profile.language.map(|l| l.code().to_owned()).unwrap_or_default(),
        notification_preferences: details.profile.notification_preferences.iter().map(preference_pb).collect(),
        status: status as i32,
    })
}

pub fn role_pb(role: Role) -> pb::Role {
    match role {
        Role::Applicant => pb::Role::Applicant,
        Role::Approver => pb::Role::Approver,
        Role::Executor => pb::Role::Executor,
        Role::Admin => pb::Role::Admin,
        Role::Signatory => pb::Role::Signatory,
        Role::Integrator => pb::Role::Integrator,
    }
}

/// `None` for `ROLE_UNSPECIFIED` and numbers this version does not know.
pub fn role_from_pb(value: i32) -> Option<Role> {
    match pb::Role::try_from(value).ok()? {
        pb::Role::Unspecified => None,
        pb::Role::Applicant => Some(Role::Applicant),
        pb::Role::Approver => Some(Role::Approver),
        pb::Role::Executor => Some(Role::Executor),
        pb::Role::Admin => Some(Role::Admin),
        pb::Role::Signatory => Some(Role::Signatory),
        pb::Role::Integrator => Some(Role::Integrator),
    }
}

fn preference_pb(preference: &NotificationPreference) -> pb::NotificationPreference {
    let channel = match preference.channel {
        Channel::InSystem => pb::NotificationChannel::InSystem,
        Channel::Email => pb::NotificationChannel::Email,
    };
    pb::NotificationPreference { kind: preference.kind.clone(), channel: channel as i32, enabled: preference.enabled }
}

pub fn channel_from_pb(value: i32) -> Option<Channel> {
    match pb::NotificationChannel::try_from(value).ok()? {
        pb::NotificationChannel::Unspecified => None,
        pb::NotificationChannel::InSystem => Some(Channel::InSystem),
        pb::NotificationChannel::Email => Some(Channel::Email),
    }
}

fn date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub fn card_pb(user_id: Uuid, card: &Card) -> Option<pb::PersonalCard> {
    let (recorded, updated_at) = (card.card.as_ref()?, card.updated_at);
    let identity_document = recorded.identity_document.as_ref().map(|document| pb::IdentityDocument {
        r#type: match document.kind {
            DocumentKind::IdCard => pb::IdentityDocumentType::IdCard,
            DocumentKind::Passport => pb::IdentityDocumentType::Passport,
            DocumentKind::ResidencePermit => pb::IdentityDocumentType::ResidencePermit,
        } as i32,
        number: document.number.clone(),
        issued_by: document.issued_by.clone(),
        issue_date: date(document.issue_date),
    });
    Some(pb::PersonalCard {
        user_id: user_id.to_string(),
        surname: recorded.surname.clone(),
        name: recorded.name.clone(),
        patronymic: recorded.patronymic.clone(),
        birth_date: date(recorded.birth_date),
        iin: recorded.iin.as_str().to_owned(),
        identity_document,
        faculty: recorded.faculty.clone(),
        specialty: recorded.specialty.clone(),
        course: recorded.course.map_or(0, i32::from),
        group: recorded.group.clone(),
        address: recorded.address.clone(),
        phone: recorded.phone.clone(),
        email: recorded.email.clone(),
        updated_at: updated_at.map(onewindow_proto::timestamp),
    })
}

/// The card as typed, for [`crate::card::parse_card`].
pub fn card_form(card: &pb::PersonalCard) -> CardForm {
    let document = card.identity_document.clone().unwrap_or_default();
    let document_type = match pb::IdentityDocumentType::try_from(document.r#type) {
        Ok(pb::IdentityDocumentType::IdCard) => "id_card".to_owned(),
        Ok(pb::IdentityDocumentType::Passport) => "passport".to_owned(),
        Ok(pb::IdentityDocumentType::ResidencePermit) => "residence_permit".to_owned(),
        Ok(pb::IdentityDocumentType::Unspecified) => String::new(),
        Err(_) => format!("type {}", document.r#type),
    };
    CardForm {
        surname: card.surname.clone(),
        name: card.name.clone(),
        patronymic: card.patronymic.clone(),
        birth_date: card.birth_date.clone(),
        iin: card.iin.clone(),
        document_type,
        document_number: document.number,
        document_issued_by: document.issued_by,
        document_issue_date: document.issue_date,
        faculty: card.faculty.clone(),
        specialty: card.specialty.clone(),
        course: if card.course == 0 { String::new() } else { card.course.to_string() },
        group: card.group.clone(),
        address: card.address.clone(),
        phone: card.phone.clone(),
        email: card.email.clone(),
    }
}
