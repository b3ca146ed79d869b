//! Compiles `proto/` with protox, a pure-Rust protobuf compiler, so that a
//! machine with only the Rust toolchain can build the provider.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The protocol files stay at the repository's top level, where a
    // reader looks for them.
    let files = [
        "../../proto/tfplugin6.proto",
        "../../proto/plugin.proto",
        "../../proto/health.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["../../proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
