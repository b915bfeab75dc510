//! `onewindow redrive`: an administrator's command line for parked events, a client of `ParkedEventsService` (the
//! same calls a console makes): list them, or re-drive one once its cause is fixed.

use onewindow_proto::operations::v1::{
    ListParkedEventsRequest, ParkedEvent, RedriveParkedEventRequest,
    parked_events_service_client::ParkedEventsServiceClient,
};

use crate::walkthrough::{Login, authed, channel, sign_in};

/// Which parked event to re-drive, as `ListParkedEvents` names it.
#[derive(Debug, Clone)]
pub struct Target {
    pub service: String,
    pub consumer: String,
    pub event_id: String,
}

/// One line per parked event, for a terminal.
pub fn line(parked: &ParkedEvent) -> String {
    let at = parked.parked_at.and_then(onewindow_proto::from_timestamp).map(|t| t.to_rfc3339()).unwrap_or_default();
    let state = if parked.redriven { "re-driven" } else { "parked" };
    format!(
        "{} {} {} {} {} application={} attempts={} {state} since {at}: {}",
        parked.service,
        parked.consumer,
        parked.event_id,
        parked.event_type,
        parked.stream,
        parked.application_id,
        parked.attempts,
        parked.reason
    )
}

/// Signs `login` in to `org` at `url`, then lists (no `target`) or re-drives; the lines to print.
pub async fn run(
    url: &str,
    org: &str,
    login: &Login,
    target: Option<Target>,
    all: bool,
) -> anyhow::Result<Vec<String>> {
    let token = sign_in(url, org, login).await?;
    let mut client = ParkedEventsServiceClient::new(channel(url).await?);
    match target {
        None => {
            let request = authed(ListParkedEventsRequest { include_redriven: all }, &token)?;
            let listed = client.list_parked_events(request).await?.into_inner().parked_events;
            Ok(listed.iter().map(line).collect())
        }
        Some(Target { service, consumer, event_id }) => {
            let request = authed(RedriveParkedEventRequest { service, consumer, event_id }, &token)?;
            let answer = client.redrive_parked_event(request).await?.into_inner();
            Ok(answer.parked_event.iter().map(line).collect())
        }
    }
}
