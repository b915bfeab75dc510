//! Generates the gRPC code of every onewindow API from `proto/`, with a descriptor set for server reflection.
//! protoc comes from `protoc-bin-vendored`, so a fresh machine needs no system protoc.

use std::{env, path::PathBuf};

const PROTOS: &[&str] = &[
    "onewindow/identity/v1/identity.proto",
    "onewindow/catalog/v1/catalog.proto",
    "onewindow/applications/v1/applications.proto",
    "onewindow/applications/v1/attachments.proto",
    "onewindow/applications/v1/lists.proto",
    "onewindow/routing/v1/routing.proto",
    "onewindow/documents/v1/documents.proto",
    "onewindow/notifications/v1/notifications.proto",
    "onewindow/events/v1/events.proto",
    "onewindow/operations/v1/operations.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);

    // Read when the script runs, not baked in when it is compiled: clones sharing a target directory share this
    // script's binary, and a compiled-in path would point at whichever clone built it.
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| root.join(p)).collect();
    let includes = [root.clone(), protoc_bin_vendored::include_path()?];

    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("onewindow_descriptor.bin"))
        .compile_with_config(config, &files, &includes)?;

    // One line per file: a directory is only checked for its own changes by some cargo versions. Relative to the
    // package: clones sharing a target directory share this crate's build, and an absolute path would have it
    // watch the files of whichever clone built it last.
    for proto in PROTOS {
        println!("cargo:rerun-if-changed=../../proto/{proto}");
    }
    Ok(())
}
