pub mod proto {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
}
pub mod nicsrs;
pub mod sandbox;
