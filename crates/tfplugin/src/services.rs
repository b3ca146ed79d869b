//! go-plugin's auxiliary services. Terraform calls Stdio and Broker but
//! ignores their errors, and never calls Health; Controller's Shutdown is
//! what ends the process at the end of every Terraform command.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use tokio::sync::Notify;
use tonic::{Request, Response, Status, Streaming};

use super::proto::health as hpb;
use super::proto::plugin as ppb;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn empty_stream<T: Send + 'static>() -> BoxStream<T> {
    Box::pin(futures_util::stream::empty())
}

/// `plugin.GRPCController`: Shutdown wakes the server loop, which stops.
pub struct Controller {
    pub shutdown: Arc<Notify>,
}

#[tonic::async_trait]
impl ppb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<ppb::Empty>) -> Result<Response<ppb::Empty>, Status> {
        log::debug!("shutdown requested by Terraform");
        self.shutdown.notify_one();
        Ok(Response::new(ppb::Empty {}))
    }
}

/// `plugin.GRPCStdio`: we never write to stdout after the handshake, and our
/// stderr goes to Terraform directly, so there is nothing to stream.
pub struct Stdio;

#[tonic::async_trait]
impl ppb::grpc_stdio_server::GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<BoxStream<ppb::StdioData>>, Status> {
        Ok(Response::new(empty_stream()))
    }
}

/// `plugin.GRPCBroker`: Terraform providers open no extra connections.
pub struct Broker;

#[tonic::async_trait]
impl ppb::grpc_broker_server::GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _: Request<Streaming<ppb::ConnInfo>>,
    ) -> Result<Response<BoxStream<ppb::ConnInfo>>, Status> {
        Ok(Response::new(empty_stream()))
    }
}

/// `grpc.health.v1.Health`: the service "plugin" (and the server as a whole,
/// the empty name) is always SERVING while the process runs.
pub struct Health;

impl Health {
    fn status(service: &str) -> Result<hpb::HealthCheckResponse, Status> {
        if service.is_empty() || service == "plugin" {
            Ok(hpb::HealthCheckResponse {
                status: hpb::health_check_response::ServingStatus::Serving as i32,
            })
        } else {
            Err(Status::not_found(format!("unknown service {service:?}")))
        }
    }
}

#[tonic::async_trait]
impl hpb::health_server::Health for Health {
    async fn check(
        &self,
        request: Request<hpb::HealthCheckRequest>,
    ) -> Result<Response<hpb::HealthCheckResponse>, Status> {
        Health::status(&request.into_inner().service).map(Response::new)
    }

    async fn watch(
        &self,
        request: Request<hpb::HealthCheckRequest>,
    ) -> Result<Response<BoxStream<hpb::HealthCheckResponse>>, Status> {
        let status = Health::status(&request.into_inner().service)?;
        Ok(Response::new(Box::pin(futures_util::stream::iter([Ok(
            status,
        )]))))
    }
}
