//! The generated gRPC code of every onewindow API (`proto/`), in one place so that services, clients and tests
//! share one copy. Nothing here is written by hand but the module tree.
//!
//! # Layout
//! - one module per package, `onewindow.<service>.v1` → [`identity::v1`], [`catalog::v1`], ...
//! - [`operations::v1`]: what administrators run the system with (parked events)
//! - [`events::v1`]: the public event contract (the envelope and the payloads published on NATS)
//! - [`FILE_DESCRIPTOR_SET`]: every file's descriptor, for gRPC server reflection

pub mod identity {
    pub mod v1 {
        tonic::include_proto!("onewindow.identity.v1");
    }
}

pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("onewindow.catalog.v1");
    }
}

pub mod applications {
    pub mod v1 {
        tonic::include_proto!("onewindow.applications.v1");
    }
}

pub mod routing {
    pub mod v1 {
        tonic::include_proto!("onewindow.routing.v1");
    }
}

pub mod documents {
    pub mod v1 {
        tonic::include_proto!("onewindow.documents.v1");
    }
}

pub mod notifications {
    pub mod v1 {
        tonic::include_proto!("onewindow.notifications.v1");
    }
}

pub mod operations {
    pub mod v1 {
        tonic::include_proto!("onewindow.operations.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("onewindow.events.v1");
    }
}

/// The encoded `FileDescriptorSet` of all the files above, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("onewindow_descriptor");

/// Converts a chrono time to the protobuf timestamp every API uses.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// A protobuf timestamp as a chrono time; None when it is out of range.
pub fn from_timestamp(at: prost_types::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}
