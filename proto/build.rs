//! Compiles `fedlink.proto` with protox (pure Rust, no system protoc) and tonic-prost-build, and
//! writes the encoded descriptor set that the node's reflection service serves.

use std::{env, error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let protos = ["fedlink.proto"];
    let descriptors = protox::compile(protos, ["."])?;

    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out.join("fedlink_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;

    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
