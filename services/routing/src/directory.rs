//! Who holds a post: routing asks identity (over gRPC; identity publishes no events to copy) as it opens a sheet,
//! and records the people on the sheet's rows.

use async_trait::async_trait;
use onewindow_eventlog::OrgId;
use onewindow_proto::identity::v1::{ListPostHoldersRequest, identity_service_client::IdentityServiceClient};
use tonic::transport::Channel;
use uuid::Uuid;

/// A person holding a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user_id: Uuid,
    pub full_name: String,
}

/// The people of `department` holding `position` who may decide (approvers, signatories).
#[async_trait]
pub trait Directory: Send + Sync {
    async fn holders(&self, org: &OrgId, department: &str, position: &str) -> anyhow::Result<Vec<Person>>;
}

/// Identity's `ListPostHolders`.
pub struct IdentityDirectory {
    client: IdentityServiceClient<Channel>,
}

impl IdentityDirectory {
    /// Connects on first use (identity may start after routing).
    pub fn new(identity_url: &str) -> anyhow::Result<Self> {
        let endpoint = tonic::transport::Endpoint::from_shared(identity_url.to_owned())?;
        Ok(Self { client: IdentityServiceClient::new(endpoint.connect_lazy()) })
    }
}

#[async_trait]
impl Directory for IdentityDirectory {
    async fn holders(&self, org: &OrgId, department: &str, position: &str) -> anyhow::Result<Vec<Person>> {
        let request = ListPostHoldersRequest {
            organization_id: org.to_string(),
            department: department.to_owned(),
            position: position.to_owned(),
        };
        let answer = self.client.clone().list_post_holders(request).await?.into_inner();
        answer
            .holders
            .into_iter()
            .map(|h| Ok(Person { user_id: Uuid::parse_str(&h.user_id)?, full_name: h.full_name }))
            .collect()
    }
}
