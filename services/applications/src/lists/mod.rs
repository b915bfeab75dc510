//! Lists of applications and watching them: the `application_list` read model, its queries and the
//! `ApplicationListsService` API.
//!
//! The read model is a projection of the applications log (`onewindow-projections`): one row per application,
//! kept current by a runner beside the gRPC server and rebuilt from scratch with `onewindow rebuild
//! application_list`. Lists read only it, never the log. The watch streams are told of each application event by
//! the same runner once the row holds it, and load the application itself for `WatchApplication`.
//!
//! - `projection`: the pure fold of events into rows, and the batch apply
//! - `sql`: the table and its statements, one text for PostgreSQL and SQLite
//! - `query`: page sizes, page tokens, statuses, rows as protobuf
//! - `api`: the gRPC handlers and the watch streams; `reader`: `WatchApplication` reads through `GetApplication`

mod api;
mod projection;
mod query;
mod reader;
mod sql;

use std::sync::Arc;

use onewindow_bus::Worker;
use onewindow_projections::{Projection, ProjectionRunner};
use onewindow_proto::applications::v1::application_lists_service_server::{
    ApplicationListsServiceServer, SERVICE_NAME,
};
use onewindow_server::{Grpc, ServiceContext};

pub use api::ReadApplication;
pub use projection::{ApplicationList, EVENT_TYPES, fold};
pub(crate) use reader::ThroughGetApplication;
pub use sql::ListRow;

/// Every projection of the applications service (`onewindow rebuild <name>`).
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(ApplicationList)]
}

/// Adds `ApplicationListsService` to `grpc` and returns the projection's runner; `clock` says what is overdue.
pub fn register(
    ctx: &ServiceContext,
    grpc: &mut Grpc,
    reader: Arc<dyn ReadApplication>,
    clock: Arc<dyn onewindow_server::Clock>,
) -> Vec<Worker> {
    let runner = match ProjectionRunner::new(Arc::new(ApplicationList), ctx.store.clone()) {
        Ok(runner) => runner,
        // Only a store without a database has no room for a read model: say so rather than serve no lists.
        Err(error) => return vec![Worker::new("projection:application_list", async move { Err(error.into()) })],
    };
    let api = api::ListsApi {
        read_model: api::ReadModel { runner: runner.clone() },
        auth: ctx.auth.clone(),
        reader,
        shutdown: ctx.shutdown.clone(),
        clock,
    };
    grpc.routes.add_service(ApplicationListsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    vec![runner.worker(ctx.shutdown.clone())]
}
