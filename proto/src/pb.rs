//! The prost/tonic types generated from `fedlink.proto`. They are wire shapes only: parse them
//! into the domain types of this crate (`envelope`, `audit::entry`) at the edge.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

tonic::include_proto!("fedlink.v1");

/// The encoded `FileDescriptorSet` of `fedlink.proto`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fedlink_descriptor.bin"));
