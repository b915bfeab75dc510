//! How `WatchApplication` reads the application: through `GetApplication`'s own handler, so a watcher sees
//! exactly what `GetApplication` answers (the converter, the working calendar) under exactly its read rule.

use async_trait::async_trait;
use onewindow_auth::Principal;
use onewindow_proto::applications::v1::{self as pb, applications_service_server::ApplicationsService};
use tonic::{Request, Status};
use uuid::Uuid;

use super::ReadApplication;
use crate::service::ApplicationsApi;

pub struct ThroughGetApplication {
    pub(crate) api: ApplicationsApi,
}

#[async_trait]
impl ReadApplication for ThroughGetApplication {
    async fn read(&self, principal: &Principal, id: Uuid) -> Result<pb::Application, Status> {
        let mut request =
            Request::new(pb::GetApplicationRequest { application_id: id.to_string(), ..Default::default() });
        // The caller was verified when the watch began; the handler finds them where the authorization layer
        // leaves them.
        request.extensions_mut().insert(principal.clone());
        let answer = self.api.get_application(request).await?.into_inner();
        answer.application.ok_or_else(|| Status::internal("GetApplication answered without an application"))
    }
}
