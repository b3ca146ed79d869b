pub mod proto {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
}
